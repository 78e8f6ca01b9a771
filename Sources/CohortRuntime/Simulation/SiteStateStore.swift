import Synchronization

/// State that virtual sites keep between rounds (e.g. SCAFFOLD's control variate), by site and key.
///
/// A real site keeps such state in its state directory; the simulation keeps it here, in memory.
public final class SiteStateStore: Sendable {
    private let values = Mutex<[String: [Float]]>([:])

    public init() {}

    public func value(site: String, key: String) async -> [Float]? {
        self.values.withLock { $0["\(site)/\(key)"] }
    }

    public func keep(site: String, key: String, value: [Float]) {
        self.values.withLock { $0["\(site)/\(key)"] = value }
    }
}
