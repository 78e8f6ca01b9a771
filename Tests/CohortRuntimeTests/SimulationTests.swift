import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Testing

@Suite("Simulation")
struct SimulationTests {
    static func run(seed: UInt64, concurrency: Int, dropout: Double = 0.2, strategy: StrategySpec = .fedAvg()) async throws -> (records: [RoundRecord], model: ModelParameters) {
        let sites = ToyFederation.sites(sizes: [50, 300, 20, 150, 80, 400, 35, 60], features: 5, seed: 7)
        let net = try DenseNetwork(ModelSpec(kind: .mlp, inputCount: 5, classCount: 2, hidden: [8, 4]))
        let executors = ToyFederation.executors(sites, network: net)
        let connector = InProcessSites(executors: executors, dropoutRate: dropout, seed: seed, concurrency: concurrency)
        var initRng = RandomSource(seed: seed)
        let config = SimulationConfig(model: .mlp, hidden: [8, 4], strategy: strategy, settings: RunSettings(
            rounds: 8, fraction: 0.6, minimumSites: 2,
            training: TrainingConfig(budget: .epochs(2), batchSize: 8, optimizer: .sgd(learningRate: 0.1, momentum: 0.5)), seed: seed))
        let (records, final) = try await Simulation.federate(
            config: config, initial: net.initialParameters(rng: &initRng),
            sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) }, connector: connector)
        return (records, final.global)
    }

    @Test("the same seed gives bit-identical models whatever the concurrency; another seed does not")
    func bitIdentical() async throws {
        let a = try await Self.run(seed: 5, concurrency: 1)
        let b = try await Self.run(seed: 5, concurrency: 4)
        let c = try await Self.run(seed: 5, concurrency: 8)
        #expect(a.model.bytes == b.model.bytes)
        #expect(a.model.bytes == c.model.bytes)
        #expect(a.records.map(\.modelSHA256) == b.records.map(\.modelSHA256))
        let d = try await Self.run(seed: 6, concurrency: 4)
        #expect(d.model.bytes != a.model.bytes)
        let m1 = try await Self.run(seed: 5, concurrency: 1, strategy: .fedAvgM(serverLearningRate: 1, momentum: 0.5))
        let m2 = try await Self.run(seed: 5, concurrency: 3, strategy: .fedAvgM(serverLearningRate: 1, momentum: 0.5))
        #expect(m1.model.bytes == m2.model.bytes)
    }

    @Test("a fraction of sites is selected each round and simulated dropouts are recorded")
    func selectionAndDropouts() async throws {
        let r = try await Self.run(seed: 11, concurrency: 2, dropout: 0.3)
        #expect(r.records.allSatisfy { $0.participants.count == 5 })  // ceil(0.6 * 8)
        let dropped = r.records.flatMap(\.failures).filter { $0.code == "dropped" }
        #expect(!dropped.isEmpty)
        for rec in r.records {
            #expect(Set(rec.aggregated).isDisjoint(with: rec.failures.map(\.site)))
            #expect(rec.aggregated.count + rec.failures.count == rec.participants.count)
            #expect(rec.applied == (rec.aggregated.count >= 2))
        }
        // Different rounds select different sites.
        #expect(Set(r.records.map(\.participants)).count > 1)
    }

    @Test("a round with fewer answering sites than the minimum leaves the model unchanged")
    func belowMinimum() async throws {
        let sites = ToyFederation.sites(sizes: [30, 30, 30], features: 3, seed: 2)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 3, classCount: 2))
        let connector = InProcessSites(executors: ToyFederation.executors(sites, network: net), dropoutRate: 1, seed: 1)
        let controller = FederatedController(strategy: FedAvg(), settings: RunSettings(
            rounds: 2, minimumSites: 2, training: TrainingConfig(), seed: 1))
        let start = controller.start(from: ModelParameters(zeros: net.layout))
        let (records, final) = try await controller.run(from: start, sites: sites.map { SiteInfo(name: $0.name, trainCount: 30) }, connector: connector)
        #expect(records.allSatisfy { !$0.applied && $0.failures.count == 3 })
        #expect(final.global == start.global)
    }

    @Test("a target metric stops the run early")
    func earlyStop() async throws {
        let sites = ToyFederation.sites(sizes: [200, 200], features: 3, seed: 2)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 3, classCount: 2))
        let connector = InProcessSites(executors: ToyFederation.executors(sites, network: net), seed: 1)
        let controller = FederatedController(strategy: FedAvg(), settings: RunSettings(
            rounds: 50, training: TrainingConfig(optimizer: .sgd(learningRate: 0.2)), seed: 1,
            target: MetricTarget(metric: .auc, value: 0.6)))
        let (records, _) = try await controller.run(
            from: controller.start(from: ModelParameters(zeros: net.layout)),
            sites: sites.map { SiteInfo(name: $0.name, trainCount: 200) }, connector: connector)
        #expect(records.count < 50)
        #expect(records.last!.evaluation!.global.auc! >= 0.6)
    }
}
