import CohortTensor

/// Runs a whole round in-process: one ``SecAggServer`` and one ``SecAggClient`` per participant, wired by a driver
/// that delivers messages stage by stage and closes each stage when every live client has answered.
///
/// Dropouts are given per stage: a client listed under a stage sends nothing in that stage or later (listed under
/// ``SecAggStage/shareKeys``, it advertised keys but never shared them). The driver measures each party's CPU time in
/// its state machine and every message's ``SecAggMessage/wireByteCount``.
///
/// ```swift
/// let report = try SecAggSimulation.run(configuration: config, inputs: updates, weights: counts,
///                                       dropouts: [.maskedInputCollection: ["site-3"]], seed: 7)
/// report.result?.sums   // Σ w·x over the survivors, exact up to quantisation
/// ```
public enum SecAggSimulation {
    /// Bytes moved in one stage's round trip.
    public struct Traffic: Sendable, Hashable {
        /// Bytes all clients sent to the server.
        public var clientToServer = 0
        /// Bytes the server sent to all clients.
        public var serverToClients = 0
    }

    /// What a simulated round produced and cost.
    public struct Report: Sendable {
        /// The aggregate, or nil if the round aborted.
        public var result: SecAggResult?
        /// Why the server aborted, if it did.
        public var abortReason: SecAggError?
        /// Bytes per stage.
        public var traffic: [SecAggStage: Traffic]
        /// Bytes each client sent, by participant id.
        public var bytesSent: [String: Int]
        /// CPU seconds each client spent in its state machine (including key generation, masking and encoding).
        public var clientCPUSeconds: [String: Double]
        /// CPU seconds the server spent in its state machine.
        public var serverCPUSeconds: Double
        /// For each client, the senders whose shares it rejected as unauthentic.
        public var rejectedShares: [String: Set<String>]
        /// Clients that left the round on their own (``SecAggAction/abort(_:)``), with the reason.
        public var clientAborts: [String: SecAggError]

        /// Bytes the server received over the round.
        public var serverBytesReceived: Int { self.traffic.values.reduce(0) { $0 + $1.clientToServer } }
    }

    /// About `fraction · n` participants drawn at random, but only among sets that leave every closed
    /// neighbourhood with at least `threshold` members, so a round with these dropouts must succeed (for tests and
    /// benchmarks that measure cost rather than robustness).
    public static func tolerableDropouts(configuration: SecAggConfiguration, fraction: Double, seed: UInt64) -> Set<String> {
        let n = configuration.participants.count
        let graph = NeighbourGraph(configuration)
        let target = Int((fraction * Double(n)).rounded())
        var rng = RandomSource(seed: seed).derived("cohort-secagg/dropouts")
        var left = (0..<n).map { graph.closedNeighbourhood(of: $0).count }
        var dropped = Set<Int>()
        for u in rng.permutation(n) where dropped.count < target {
            // Dropping u removes one member from the closed neighbourhood of u and of each of its neighbours.
            let affected = graph.closedNeighbourhood(of: u)
            if affected.allSatisfy({ left[$0] > configuration.threshold }) {
                for v in affected { left[v] -= 1 }
                dropped.insert(u)
            }
        }
        return Set(dropped.map { configuration.participants[$0] })
    }

    /// Runs one round.
    ///
    /// - Parameters:
    ///   - configuration: the round parameters; its `signingKeys` are replaced by freshly generated Ed25519 keys.
    ///   - inputs: one vector per participant, in `configuration.participants` order.
    ///   - weights: one weight per participant (default 1).
    ///   - dropouts: the clients that go silent at each stage.
    ///   - seed: derive all randomness (long-term keys, round keys, seeds, Shamir coefficients, nonces) from this
    ///     seed, per client, for reproducible runs; nil uses the system CSPRNG.
    ///   - deliver: called on every server-to-client message with the recipient; returns the message to deliver
    ///     (to model a server or network that tampers with or misroutes messages).
    /// - Throws: ``SecAggError`` for an invalid configuration or input.
    public static func run(
        configuration: SecAggConfiguration, inputs: [[Float]], weights: [Double]? = nil,
        dropouts: [SecAggStage: Set<String>] = [:], seed: UInt64? = nil,
        deliver: (_ message: SecAggMessage, _ recipient: String) -> SecAggMessage = { message, _ in message }
    ) throws(SecAggError) -> Report {
        let ids = configuration.participants
        guard inputs.count == ids.count, weights.map({ $0.count == ids.count }) ?? true else {
            throw SecAggError(code: .invalidInput, message: "one input and one weight per participant are needed")
        }
        let root = seed.map { RandomSource(seed: $0).derived("cohort-secagg/simulation") }
        var config = configuration
        var signers = [Ed25519Signer]()
        for id in ids {
            if var r = root?.derived("long-term-key", id) { signers.append(Ed25519Signer(using: &r)) } else { signers.append(Ed25519Signer()) }
        }
        config.signingKeys = Dictionary(uniqueKeysWithValues: zip(ids, signers.map(\.publicKeyBytes)))

        var report = Report(
            result: nil, abortReason: nil, traffic: [:], bytesSent: [:], clientCPUSeconds: [:], serverCPUSeconds: 0,
            rejectedShares: [:], clientAborts: [:])
        var server = try SecAggServer(configuration: config)
        var clients = [SecAggClient]()
        for (i, id) in ids.enumerated() {
            var seconds = 0.0
            let randomness: any RandomNumberGenerator & Sendable = root.map { $0.derived("client", id) } ?? SystemRandomNumberGenerator()
            clients.append(try ThreadCPUClock.measure(&seconds) { () throws(SecAggError) in
                try SecAggClient(
                    participant: id, configuration: config, input: inputs[i], weight: weights?[i] ?? 1, signer: signers[i], randomness: randomness)
            })
            report.clientCPUSeconds[id] = seconds
        }
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        var silent = Set<Int>()
        var inbox = [[SecAggMessage]](repeating: [], count: ids.count)

        func serverActions(_ actions: [SecAggAction]) {
            for action in actions {
                switch action {
                case .send(let to, let message):
                    report.traffic[message.stage, default: Traffic()].serverToClients += message.wireByteCount
                    if let v = index[to] { inbox[v].append(deliver(message, to)) }
                case .result(let r): report.result = r
                case .abort(let e): report.abortReason = e
                case .sendToServer: break
                }
            }
        }
        func clientActions(_ u: Int, _ actions: [SecAggAction]) {
            for action in actions {
                switch action {
                case .sendToServer(let message):
                    let bytes = message.wireByteCount
                    report.traffic[message.stage, default: Traffic()].clientToServer += bytes
                    report.bytesSent[ids[u], default: 0] += bytes
                    // An invalid message is ignored by the server, as a network driver would after logging it.
                    serverActions((try? ThreadCPUClock.measure(&report.serverCPUSeconds) { () throws(SecAggError) in try server.handle(message) }) ?? [])
                case .abort(let e):
                    report.clientAborts[ids[u]] = e
                    silent.insert(u)
                default: break
                }
            }
        }

        for stage in SecAggStage.allCases {
            for id in dropouts[stage] ?? [] { if let u = index[id] { silent.insert(u) } }
            let pending = inbox
            inbox = [[SecAggMessage]](repeating: [], count: ids.count)
            for u in ids.indices where !silent.contains(u) {
                var seconds = 0.0
                let actions: [SecAggAction]
                do throws(SecAggError) {
                    actions = try ThreadCPUClock.measure(&seconds) { () throws(SecAggError) -> [SecAggAction] in
                        if stage == .advertiseKeys { return try clients[u].start() }
                        var out = [SecAggAction]()
                        for m in pending[u] { out += try clients[u].handle(m) }
                        return out
                    }
                } catch {
                    report.clientAborts[ids[u]] = error
                    silent.insert(u)
                    actions = []
                }
                report.clientCPUSeconds[ids[u], default: 0] += seconds
                clientActions(u, actions)
            }
            if server.stage == stage {
                serverActions(ThreadCPUClock.measure(&report.serverCPUSeconds) { server.closeStage() })
            }
            if server.stage == nil { break }
        }
        for (u, client) in clients.enumerated() where !client.rejectedShares.isEmpty {
            report.rejectedShares[ids[u]] = client.rejectedShares
        }
        return report
    }
}
