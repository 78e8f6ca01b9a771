/// Runs a private set intersection in one process: every party's state machine and the coordinator's relay,
/// with messages passed in memory exactly as they would be over the network.
public enum PrivateSetIntersection {
    /// The outcome of an in-process run.
    public struct Run: Sendable {
        /// What each party learned, by name.
        public var results: [String: PSIResult]
        /// The cardinality the coordinator received.
        public var released: Int?
        /// Every message the coordinator relayed, in order.
        public var transcript: [PSIMessage]
    }

    /// Runs the protocol over the given parties (their names must be the parameters' parties).
    public static func run(
        parameters: PSIParameters, identifiers: [String: [String]], policies: [String: PSIPolicy] = [:]
    ) throws(AnalyticsError) -> Run {
        var relay = try PSIRelay(parameters: parameters)
        var parties = [String: PSIParty]()
        for name in parameters.parties {
            parties[name] = try PSIParty(name: name, identifiers: identifiers[name] ?? [], parameters: parameters,
                                         policy: policies[name] ?? PSIPolicy(allowMembers: parameters.output == .members))
        }
        var queue = [PSIMessage]()
        for name in parameters.parties { queue += parties[name]!.start() }
        var transcript = [PSIMessage]()
        var index = 0
        while index < queue.count {
            let m = queue[index]
            index += 1
            transcript.append(m)
            switch try relay.relay(m) {
            case .deliver(let message): queue += try parties[message.to]!.receive(message)
            case .released: break
            }
        }
        var results = [String: PSIResult]()
        for (name, p) in parties {
            guard let r = p.result else {
                throw AnalyticsError(.protocolViolation, "the run ended before '\(name)' learned its result")
            }
            results[name] = r
        }
        return Run(results: results, released: relay.cardinality, transcript: transcript)
    }
}
