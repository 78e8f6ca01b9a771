import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Foundation
import Testing

@Suite("Client selection policies and cyclic training")
struct SelectionTests {
    static let sites = [SiteInfo(name: "a", trainCount: 100), SiteInfo(name: "b", trainCount: 900),
                        SiteInfo(name: "c", trainCount: 300), SiteInfo(name: "d", trainCount: 200),
                        SiteInfo(name: "e", trainCount: 500)]
    static let global = ModelParameters(layout: ParameterLayout([(name: "w", shape: [1])]), flat: [0])

    static func context(round: Int, fraction: Double, policy: SelectionPolicy, history: SelectionHistory = SelectionHistory()) -> RoundContext {
        RoundContext(round: round, global: Self.global, available: Self.sites, fraction: fraction, minimumSites: 1,
                     training: TrainingConfig(), seed: 17, selection: policy, history: history)
    }

    /// How often each site is selected over `rounds` rounds.
    static func frequencies(_ policy: SelectionPolicy, fraction: Double, rounds: Int, history: SelectionHistory = SelectionHistory()) -> [String: Int] {
        var counts = [String: Int]()
        for r in 1...rounds {
            for s in FedAvg().configureRound(Self.context(round: r, fraction: fraction, policy: policy, history: history)).participants {
                counts[s, default: 0] += 1
            }
        }
        return counts
    }

    @Test("round-robin visits every site equally often, in name order")
    func roundRobin() {
        let c = Self.frequencies(.roundRobin, fraction: 0.2, rounds: 10)
        #expect(c == ["a": 2, "b": 2, "c": 2, "d": 2, "e": 2])
        let firstFive = (1...5).map { FedAvg().configureRound(Self.context(round: $0, fraction: 0.2, policy: .roundRobin)).participants }
        #expect(firstFive == [["a"], ["b"], ["c"], ["d"], ["e"]])
        // Blocks of two wrap around.
        let pairs = (1...3).map { FedAvg().configureRound(Self.context(round: $0, fraction: 0.4, policy: .roundRobin)).participants }
        #expect(pairs == [["a", "b"], ["c", "d"], ["a", "e"]])
    }

    @Test("weighted selection follows the sites' sizes: with one site per round, frequencies match size shares")
    func weighted() {
        let rounds = 4000
        let c = Self.frequencies(.weighted, fraction: 0.2, rounds: rounds)
        let total = Double(Self.sites.reduce(0) { $0 + $1.trainCount })
        for s in Self.sites {
            let p = Double(s.trainCount) / total
            let sd = (Double(rounds) * p * (1 - p)).squareRoot()
            let got = Double(c[s.name] ?? 0)
            #expect(abs(got - Double(rounds) * p) < 5 * sd, "\(s.name): \(got) vs \(Double(rounds) * p)")
        }
        // Uniform selection does not follow sizes.
        let u = Self.frequencies(.uniform, fraction: 0.2, rounds: rounds)
        #expect(abs(Double(u["b"] ?? 0) - Double(rounds) / 5) < 5 * (Double(rounds) * 0.2 * 0.8).squareRoot())
    }

    @Test("availability-aware selection asks unreliable sites less often but still asks them")
    func availability() {
        var history = SelectionHistory()
        for _ in 0..<10 {
            history.record(participants: ["a", "b", "c", "d", "e"], aggregated: ["b", "c", "d", "e"])  // a never answers
        }
        #expect(history.reliability(of: "a") == 1.0 / 12 && history.reliability(of: "b") == 11.0 / 12)
        let c = Self.frequencies(.availability, fraction: 0.4, rounds: 2000, history: history)
        #expect((c["a"] ?? 0) > 0)
        #expect((c["a"] ?? 0) * 4 < (c["b"] ?? 0), "\(c)")
        // Without history all sites are alike.
        let fresh = Self.frequencies(.availability, fraction: 0.4, rounds: 2000)
        #expect(fresh.values.allSatisfy { abs(Double($0) - 800) < 5 * (2000 * 0.4 * 0.6).squareRoot() }, "\(fresh)")
    }

    @Test("every policy is a function of seed, round and history only")
    func deterministic() {
        for policy in SelectionPolicy.allCases {
            let a = FedAvg().configureRound(Self.context(round: 7, fraction: 0.4, policy: policy)).participants
            let b = FedAvg().configureRound(Self.context(round: 7, fraction: 0.4, policy: policy)).participants
            #expect(a == b && a.count == 2 && a == a.sorted())
        }
    }

    @Test("cyclic: each round one site in turn continues from the previous site's model")
    func cyclic() async throws {
        let toy = ToyFederation.sites(sizes: [40, 60, 50], features: 3, seed: 8)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 3, classCount: 2))
        let executors = ToyFederation.executors(toy, network: net)
        var rng = RandomSource(seed: 2)
        let initial = net.initialParameters(rng: &rng)
        let training = TrainingConfig(budget: .epochs(1), batchSize: 8, optimizer: .sgd(learningRate: 0.1))
        let config = SimulationConfig(model: .logistic, strategy: .cyclic, settings: RunSettings(rounds: 4, training: training, seed: 2))
        let (records, final) = try await Simulation.federate(
            config: config, initial: initial, sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: InProcessSites(executors: executors, dropoutRate: 0, seed: 2))
        #expect(records.map(\.participants) == [["site-1"], ["site-2"], ["site-3"], ["site-1"]])
        // The same chain by hand.
        var model = initial
        for (round, k) in [(1, 0), (2, 1), (3, 2), (4, 0)] {
            let u = try executors[k].train(global: model, instructions: TrainInstructions(round: round, training: training, seed: 2))
            model.flat.addScaled(u.delta, by: 1)
        }
        #expect(final.global.bytes == model.bytes)
    }
}
