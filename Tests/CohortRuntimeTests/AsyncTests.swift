import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Testing

@Suite("Asynchronous training in virtual time")
struct AsyncTests {
    static func setup() throws -> ([SiteExecutor], ModelParameters, TrainingConfig) {
        let sites = ToyFederation.sites(sizes: [60, 90, 40, 120], features: 4, seed: 8)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 4, classCount: 2))
        return (ToyFederation.executors(sites, network: net), ModelParameters(zeros: net.layout),
                TrainingConfig(budget: .epochs(1), batchSize: 16, optimizer: .sgd(learningRate: 0.2)))
    }

    @Test("FedBuff's first version with a buffer of all sites is the first synchronous FedAvg round, bit for bit")
    func fedBuffFirstVersionIsFedAvg() async throws {
        // Equal sizes and speeds: every site's first update arrives before anyone's second.
        let sites = ToyFederation.sites(sizes: [50, 50, 50, 50], features: 4, seed: 8)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 4, classCount: 2))
        let executors = ToyFederation.executors(sites, network: net)
        let initial = ModelParameters(zeros: net.layout)
        let training = TrainingConfig(budget: .epochs(1), batchSize: 16, optimizer: .sgd(learningRate: 0.2))
        let even = SpeedModel(secondsPerExample: 0.01, spread: 0, slowFraction: 0, slowFactor: 1, latency: 0)
        let r = await AsyncSimulation.run(executors: executors, initial: initial, settings: AsyncSettings(
            mode: .fedBuff(bufferSize: 4, serverLearningRate: 1), maxStaleness: 0, training: training, seed: 3, maxVersions: 1,
            evaluateEvery: 100, speed: even))
        var settings = RunSettings(rounds: 1, training: training, seed: 3)
        settings.evaluateEvery = 0
        let controller = FederatedController(strategy: FedAvg(), settings: settings)
        let (_, sync) = try await controller.run(
            from: controller.start(from: initial), sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: InProcessSites(executors: executors, seed: 3))
        #expect(r.final.bytes == sync.global.bytes)
        #expect(r.meanStaleness == 0)
    }

    @Test("one site with FedBuff K = 1 continues its own training: each version is its local model")
    func singleSite() async throws {
        let (executors, initial, training) = try Self.setup()
        let site = executors[0]
        let r = await AsyncSimulation.run(executors: [site], initial: initial, settings: AsyncSettings(
            mode: .fedBuff(bufferSize: 1, serverLearningRate: 1), training: training, seed: 6, maxVersions: 5, evaluateEvery: 100))
        var x = initial
        for i in 1...5 {
            let u = try site.train(global: x, instructions: TrainInstructions(round: i, training: training, seed: 6))
            x.flat.addScaled(u.delta, by: 1)
        }
        #expect(r.final.bytes == x.bytes)
    }

    @Test("stale updates are weighted by 1/sqrt(1+tau) and dropped beyond the maximum staleness")
    func staleness() async throws {
        #expect(AsyncSettings.stalenessWeight(0) == 1)
        #expect(abs(AsyncSettings.stalenessWeight(3) - 0.5) < 1e-15)
        let (executors, initial, training) = try Self.setup()
        // One site ten times slower: with FedAsync every fast update advances the version, so the slow site's
        // updates arrive stale; with maximum staleness 0 they are all dropped.
        let speed = SpeedModel(secondsPerExample: 0.01, spread: 0, slowFraction: 0.25, slowFactor: 10, latency: 0)
        let strict = await AsyncSimulation.run(executors: executors, initial: initial, settings: AsyncSettings(
            mode: .fedAsync(alpha: 0.5), maxStaleness: 0, training: training, seed: 4, maxVersions: 30, evaluateEvery: 100, speed: speed))
        #expect(strict.dropped > 0)
        let lenient = await AsyncSimulation.run(executors: executors, initial: initial, settings: AsyncSettings(
            mode: .fedAsync(alpha: 0.5), maxStaleness: 1000, training: training, seed: 4, maxVersions: 30, evaluateEvery: 100, speed: speed))
        #expect(lenient.dropped == 0)
        #expect(lenient.meanStaleness > 0)
        // Deterministic.
        let again = await AsyncSimulation.run(executors: executors, initial: initial, settings: AsyncSettings(
            mode: .fedAsync(alpha: 0.5), maxStaleness: 1000, training: training, seed: 4, maxVersions: 30, evaluateEvery: 100, speed: speed))
        #expect(again.final == lenient.final)
        #expect(again.timeline.map(\.time) == lenient.timeline.map(\.time))
    }

    @Test("with slow sites, FedBuff reaches a target sooner in virtual time than synchronous FedAvg")
    func fasterThanSync() async throws {
        let (executors, initial, training) = try Self.setup()
        let speed = SpeedModel(secondsPerExample: 0.01, spread: 0.3, slowFraction: 0.25, slowFactor: 10, latency: 0.1)
        let target = MetricTarget(metric: .accuracy, value: 0.7)
        let sync = try await AsyncSimulation.runSynchronous(executors: executors, initial: initial,
                                                            settings: RunSettings(rounds: 50, training: training, seed: 5, target: target), speed: speed)
        let buff = await AsyncSimulation.run(executors: executors, initial: initial, settings: AsyncSettings(
            mode: .fedBuff(bufferSize: 2, serverLearningRate: 1), training: training, seed: 5, maxVersions: 200, target: target, speed: speed))
        let ts = try #require(AsyncSimulation.timeToTarget(sync, target))
        let tb = try #require(AsyncSimulation.timeToTarget(buff.timeline, target))
        #expect(tb < ts)
    }
}
