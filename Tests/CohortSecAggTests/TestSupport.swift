import CohortSecAgg
import CohortTensor

/// Shared fixtures for the secure-aggregation tests.
enum Fixtures {
    static func ids(_ n: Int) -> [String] { (0..<n).map { "site-\($0 < 10 ? "0" : "")\($0)" } }

    /// A weighted configuration (clip 2, 16 fraction bits, weights up to 100).
    static func configuration(n: Int, k: Int, t: Int? = nil, d: Int = 40, seed: UInt64 = 11) -> SecAggConfiguration {
        SecAggConfiguration(
            participants: Self.ids(n), neighbourhoodSize: k, threshold: t, graphSeed: seed, vectorLength: d,
            encoding: FixedPointEncoding(clipRange: 2, scaleBits: 16, maxWeight: 100), appendsWeight: true,
            sessionID: "test-round")
    }

    /// Gaussian inputs (some beyond the clip range) and weights in 1...100.
    static func inputs(n: Int, d: Int, seed: UInt64 = 5) -> (inputs: [[Float]], weights: [Double]) {
        var rng = RandomSource(seed: seed)
        let inputs = (0..<n).map { _ in (0..<d).map { _ in Float(rng.gaussian() * 1.2) } }
        let weights = (0..<n).map { _ in Double(1 + rng.uniformInt(below: 100)) }
        return (inputs, weights)
    }

    /// The exact integer sums the server must recover: Σ over `included` of the quantised w·x, then Σ quantised w.
    static func expectedIntegers(_ config: SecAggConfiguration, inputs: [[Float]], weights: [Double], included: Set<Int>) -> [Int64] {
        var sums = [Int64](repeating: 0, count: config.encodedLength)
        for u in included.sorted() {
            let q = config.encoding.quantize(inputs[u], weight: weights[u])
            for i in q.indices { sums[i] += q[i] }
            if config.appendsWeight { sums[config.vectorLength] += config.encoding.quantizeWeight(weights[u]) }
        }
        return sums
    }
}

/// Drives the public state machines by hand, stage by stage, recording every message (for tests that inspect or
/// alter individual messages).
struct ManualRound {
    var server: SecAggServer
    var clients: [SecAggClient]
    var toServer: [SecAggMessage] = []
    var toClients: [[SecAggMessage]]
    var serverActions: [SecAggAction] = []

    init(configuration: SecAggConfiguration, inputs: [[Float]], weights: [Double], seed: UInt64) throws {
        var config = configuration
        let root = RandomSource(seed: seed)
        let signers = config.participants.map { id in
            var r = root.derived("key", id)
            return Ed25519Signer(using: &r)
        }
        config.signingKeys = Dictionary(uniqueKeysWithValues: zip(config.participants, signers.map(\.publicKeyBytes)))
        self.server = try SecAggServer(configuration: config)
        self.clients = try config.participants.indices.map { i in
            try SecAggClient(
                participant: config.participants[i], configuration: config, input: inputs[i], weight: weights[i],
                signer: signers[i], randomness: root.derived("client", config.participants[i]))
        }
        self.toClients = Array(repeating: [], count: config.participants.count)
    }

    /// Lets every client in `active` handle its pending messages (or start), forwards what they send to the server,
    /// and closes the server's stage if it is still open.
    mutating func step(active: Set<Int>? = nil, start: Bool = false) throws {
        let pending = self.toClients
        self.toClients = Array(repeating: [], count: self.clients.count)
        let stage = self.server.stage
        for u in self.clients.indices where active?.contains(u) ?? true {
            var actions = [SecAggAction]()
            if start { actions = try self.clients[u].start() }
            for m in pending[u] { actions += try self.clients[u].handle(m) }
            for case .sendToServer(let m) in actions {
                self.toServer.append(m)
                self.route(try self.server.handle(m))
            }
        }
        if self.server.stage == stage { self.route(self.server.closeStage()) }
    }

    mutating func route(_ actions: [SecAggAction]) {
        for action in actions {
            if case .send(let to, let m) = action, let v = self.server.configuration.participants.firstIndex(of: to) {
                self.toClients[v].append(m)
            } else {
                self.serverActions.append(action)
            }
        }
    }
}
