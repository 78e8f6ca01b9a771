import CohortPKI
import CohortWire
import Foundation

/// The sites connected right now, each with its control stream.
///
/// A site has at most one session: a new session from the same certificate name replaces the old one (the old
/// stream is told goodbye and ended). Anyone can wait until a set of sites, or a number of them, is connected.
actor SiteRegistry {
    struct Session {
        var id: UUID
        var identity: PeerIdentity
        var outbound: AsyncStream<Cohort_V1_CoordinatorEvent>.Continuation
        var connectedAt: Date
        var lastSeen: Date
        var state: String
        var software: String
    }

    private var sessions: [String: Session] = [:]
    /// Update encodings each site offered at its last hello.
    private var codecs: [String: [String]] = [:]
    private var waiters: [UUID: (predicate: @Sendable ([String]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var disconnectHandlers: [@Sendable (String) async -> Void] = []

    /// Registers a handler called after a site's session ends.
    func onDisconnect(_ handler: @escaping @Sendable (String) async -> Void) {
        self.disconnectHandlers.append(handler)
    }

    /// Each connected site's client certificate (DER), as TLS verified it: relayed to the other participants of a
    /// secure aggregation round, who check it against the project CA themselves.
    private var certificates: [String: [UInt8]] = [:]

    func setCertificate(site: String, _ der: [UInt8]) { self.certificates[site] = der }

    func certificate(of site: String) -> [UInt8]? { self.certificates[site] }

    func setCodecs(site: String, _ list: [String]) {
        self.codecs[site] = list
    }

    /// The update encodings a site offered (empty: dense only, or never said hello).
    func codecs(of site: String) -> [String] { self.codecs[site] ?? [] }

    /// Adds a session and returns its id; replaces an existing session of the same site.
    func register(identity: PeerIdentity, software: String, outbound: AsyncStream<Cohort_V1_CoordinatorEvent>.Continuation) -> UUID {
        if let old = self.sessions[identity.name] {
            var bye = Cohort_V1_CoordinatorEvent()
            bye.protocol = WireProtocol.version
            var g = Cohort_V1_Goodbye()
            g.code = "replaced"
            g.message = "a newer session from the same site replaced this one"
            bye.goodbye = g
            old.outbound.yield(bye)
            old.outbound.finish()
        }
        let id = UUID()
        let now = Date()
        self.sessions[identity.name] = Session(id: id, identity: identity, outbound: outbound, connectedAt: now, lastSeen: now,
                                               state: "idle", software: software)
        self.notifyWaiters()
        return id
    }

    /// Removes a session if it is still the site's current one.
    func unregister(site: String, session: UUID) async {
        guard let s = self.sessions[site], s.id == session else { return }
        self.sessions[site] = nil
        s.outbound.finish()
        for h in self.disconnectHandlers { await h(site) }
    }

    /// Ends a site's session with a reason (e.g. its certificate was revoked).
    func disconnect(site: String, code: String, message: String) async {
        guard let s = self.sessions[site] else { return }
        var bye = Cohort_V1_CoordinatorEvent()
        bye.protocol = WireProtocol.version
        var g = Cohort_V1_Goodbye()
        g.code = code
        g.message = message
        bye.goodbye = g
        s.outbound.yield(bye)
        await self.unregister(site: site, session: s.id)
    }

    func touch(site: String, state: String?) {
        self.sessions[site]?.lastSeen = Date()
        if let state { self.sessions[site]?.state = state }
    }

    /// Sends a task on the site's session stream; false if the site is not connected.
    @discardableResult
    func send(task: Cohort_V1_Task, to site: String) -> Bool {
        var event = Cohort_V1_CoordinatorEvent()
        event.protocol = WireProtocol.version
        event.task = task
        return self.send(event, to: site)
    }

    /// Sends an event on a site's control stream; false if the site is not connected.
    @discardableResult
    func send(_ event: Cohort_V1_CoordinatorEvent, to site: String) -> Bool {
        guard let s = self.sessions[site] else { return false }
        if case .terminated = s.outbound.yield(event) { return false }
        return true
    }

    func isConnected(_ site: String) -> Bool { self.sessions[site] != nil }

    var connected: [String] { self.sessions.keys.sorted() }

    func session(_ site: String) -> Session? { self.sessions[site] }

    var allSessions: [Session] { self.sessions.values.sorted { $0.identity.name < $1.identity.name } }

    /// Waits until `predicate(connected sites)` holds or the timeout passes; returns the connected sites then.
    func wait(timeout: Duration, until predicate: @escaping @Sendable ([String]) -> Bool) async -> [String] {
        if predicate(self.connected) { return self.connected }
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.expire(id)
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                self.waiters[id] = (predicate, c)
            }
            group.cancelAll()
        }
        return self.connected
    }

    private func expire(_ id: UUID) {
        if let w = self.waiters.removeValue(forKey: id) { w.continuation.resume() }
    }

    private func notifyWaiters() {
        let now = self.connected
        for (id, w) in self.waiters where w.predicate(now) {
            self.waiters[id] = nil
            w.continuation.resume()
        }
    }
}
