public import Foundation

/// The protocol parameters every party of a private set intersection must share.
///
/// Each message carries the sender's parameters; a party refuses a message whose parameters differ from its own
/// and says which fields differ.
public struct PSIParameters: Sendable, Hashable, Codable {
    /// What the parties learn.
    public enum Output: String, Sendable, Hashable, Codable {
        /// Only how many identifiers every party holds.
        case cardinality
        /// Also which of its own identifiers are in the intersection (every party's policy must allow it).
        case members
    }

    /// How blinded sets travel through the coordinator.
    public enum Channel: String, Sendable, Hashable, Codable {
        /// Sealed with AES-GCM under pairwise keys from ephemeral X25519 exchanges, so the coordinator sees only
        /// ciphertext and sizes. Required with three or more parties, where sets blinded under the same keys
        /// would otherwise pass the coordinator and let it intersect them.
        case sealed
        /// Blinded points in the clear (two parties only).
        case plain
    }

    /// The only suite: P-256, try-and-increment hash-to-curve with SHA-256, x-coordinate-only blinding.
    public static let p256Suite = "P256-SHA256-TAI-XONLY-v1"

    public var version: Int
    public var suite: String
    public var normalization: String
    public var channel: Channel
    /// A fresh identifier of this run (domain-separates the hash-to-curve and the channel keys).
    public var session: String
    /// Party names, sorted.
    public var parties: [String]
    /// The party that computes the intersection (and releases its size).
    public var receiver: String
    public var output: Output

    public init(session: String, parties: [String], receiver: String? = nil, output: Output = .cardinality,
                channel: Channel = .sealed, suite: String = PSIParameters.p256Suite,
                normalization: String = IdentifierNormalizer.version, version: Int = 1) {
        let sorted = parties.sorted()
        self.version = version
        self.suite = suite
        self.normalization = normalization
        self.channel = channel
        self.session = session
        self.parties = sorted
        self.receiver = receiver ?? sorted.first ?? ""
        self.output = output
    }

    /// Checks the parameters on their own.
    public func validate() throws(AnalyticsError) {
        guard self.version == 1 else {
            throw AnalyticsError(.parameterMismatch, "protocol version \(self.version) is not supported; this site speaks version 1")
        }
        guard self.suite == Self.p256Suite else {
            throw AnalyticsError(.parameterMismatch, "suite '\(self.suite)' is not supported; use \(Self.p256Suite)")
        }
        guard self.normalization == IdentifierNormalizer.version else {
            throw AnalyticsError(.parameterMismatch, "normalisation '\(self.normalization)' is not supported; use \(IdentifierNormalizer.version)")
        }
        guard self.parties.count >= 2, Set(self.parties).count == self.parties.count, self.parties == self.parties.sorted() else {
            throw AnalyticsError(.parameterMismatch, "a private set intersection needs two or more distinct parties, listed in sorted order")
        }
        guard self.parties.contains(self.receiver) else {
            throw AnalyticsError(.parameterMismatch, "the receiver '\(self.receiver)' is not one of the parties")
        }
        guard !self.session.isEmpty else {
            throw AnalyticsError(.parameterMismatch, "the session identifier is empty; use a fresh random one per run")
        }
        if self.channel == .plain && self.parties.count > 2 {
            throw AnalyticsError(.parameterMismatch, "the plain channel is allowed for two parties only: with \(self.parties.count) the coordinator could intersect sets blinded under the same keys; use channel sealed")
        }
    }

    /// A readable list of the fields where `other` differs, or nil when they agree.
    public func differences(from other: PSIParameters) -> String? {
        var out = [String]()
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name): here '\(a)', theirs '\(b)'") } }
        cmp("version", self.version, other.version)
        cmp("suite", self.suite, other.suite)
        cmp("normalization", self.normalization, other.normalization)
        cmp("channel", self.channel.rawValue, other.channel.rawValue)
        cmp("session", self.session, other.session)
        cmp("parties", self.parties.joined(separator: ","), other.parties.joined(separator: ","))
        cmp("receiver", self.receiver, other.receiver)
        cmp("output", self.output.rawValue, other.output.rawValue)
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }

    /// The route of `owner`'s set: the owner, every other party but the receiver (in name order), then the
    /// receiver. The receiver's own set returns to it at the end.
    func route(of owner: String) -> [String] {
        let chain = self.parties.filter { $0 != self.receiver && $0 != owner }
        return [owner] + chain + [self.receiver]
    }
}

/// What a site allows a private set intersection to reveal.
public struct PSIPolicy: Sendable, Hashable, Codable {
    /// Whether the parties may learn which identifiers they share (not only how many).
    public var allowMembers: Bool

    public init(allowMembers: Bool = false) { self.allowMembers = allowMembers }

    enum CodingKeys: String, CodingKey, CaseIterable { case allowMembers = "allow_members" }

    /// Decodes `{allow_members: bool}`; unknown keys are errors (a misspelt key must not silently mean "no").
    public init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.first(where: { CodingKeys(stringValue: $0.stringValue) == nil }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: all, debugDescription: "unknown key '\(unknown.stringValue)'; psi takes allow_members")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.allowMembers = try c.decodeIfPresent(Bool.self, forKey: .allowMembers) ?? false
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension PSIParameters {
    /// The x-coordinate of `H(id)` for this run's hash-to-curve: what anyone who knows an identifier can compute.
    /// The protocol never sends it; tests check transcripts against it.
    public func hashedPoint(of identifier: String) -> Data {
        Data(P256Blinding.hashedX(IdentifierNormalizer.normalize(identifier), session: self.session))
    }
}
