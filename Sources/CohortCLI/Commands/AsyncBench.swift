import ArgumentParser
import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import Foundation

/// `cohort bench async`: virtual time to a target AUC for synchronous FedAvg and FedBuff on the same network.
struct AsyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "async",
        abstract: "Time to a target AUC in virtual time: synchronous FedAvg against FedBuff and FedAsync, sites of different speeds.")

    @Option(help: "Target pooled test AUC.") var target: Double = 0.795
    @Option(help: "Hospitals in the synthetic network.") var sites: Int = 47
    @Option(help: "FedBuff buffer size K.") var buffer: Int = 10
    @Option(help: "Fraction of sites that are slowFactor times slower.") var slowFraction: Double = 0.1
    @Option(help: "How much slower the slow sites are.") var slowFactor: Double = 10
    @Option(help: "Random seed.") var seed: UInt64 = 42

    func run() async throws {
        let federation = try FederationLoader.synthetic(seed: self.seed, hospitals: self.sites)
        let encoded = federation.encoded(standardize: .perSite).sites
        let spec = ModelSpec(kind: .logistic, inputCount: encoded[0].train.featureCount, classCount: 2)
        let network = try DenseNetwork(spec)
        let executors = encoded.map { SiteExecutor(name: $0.name, network: network, train: $0.train, test: $0.test) }
        let initial = ModelParameters(zeros: network.layout)
        let training = TrainingConfig(budget: .epochs(1), batchSize: 32, optimizer: .sgd(learningRate: 0.1))
        let target = MetricTarget(metric: .auc, value: self.target)
        let speed = SpeedModel(slowFraction: self.slowFraction, slowFactor: self.slowFactor)
        let clock = ContinuousClock()

        var rows = ["| method | virtual s to AUC \(self.target) | rounds / versions | local trainings | wall s |", "|---|---|---|---|---|"]
        var syncTime: Double?
        for fraction in [1.0, 0.25] {
            let t0 = clock.now
            let sync = try await AsyncSimulation.runSynchronous(
                executors: executors, initial: initial,
                settings: RunSettings(rounds: 200, fraction: fraction, training: training, seed: self.seed, target: target), speed: speed)
            let wall = (clock.now - t0).seconds
            let t = AsyncSimulation.timeToTarget(sync, target)
            if fraction == 1 { syncTime = t }
            rows.append("| synchronous FedAvg (\(fraction == 1 ? "all sites" : "\(Int(fraction * 100))% of sites") each round) | \(Self.f(t)) | \(sync.last?.version ?? 0) | \(sync.last?.updates ?? 0) | \(String(format: "%.1f", wall)) |")
        }
        var t0 = clock.now
        var results: [(String, Double?)] = []
        for (name, mode) in [("FedBuff (K=\(self.buffer))", AsyncMode.fedBuff(bufferSize: self.buffer, serverLearningRate: 1)),
                             ("FedAsync (alpha 0.5)", AsyncMode.fedAsync(alpha: 0.5))] {
            t0 = clock.now
            let r = await AsyncSimulation.run(
                executors: executors, initial: initial,
                settings: AsyncSettings(mode: mode, training: training, seed: self.seed, maxVersions: 2000, evaluateEvery: 1,
                                        target: target, speed: speed))
            let wall = (clock.now - t0).seconds
            let t = AsyncSimulation.timeToTarget(r.timeline, target)
            results.append((name, t))
            rows.append("| \(name) | \(Self.f(t)) | \(r.timeline.last?.version ?? 0) | \(r.timeline.last?.updates ?? 0) (dropped \(r.dropped), mean staleness \(String(format: "%.1f", r.meanStaleness))) | \(String(format: "%.1f", wall)) |")
        }
        print(rows.joined(separator: "\n"))
        for (name, t) in results {
            if let s = syncTime, let t { print(String(format: "%@ reaches the target %.1fx sooner than synchronous FedAvg.", name, s / t)) }
        }
    }

    static func f(_ v: Double?) -> String { v.map { String(format: "%.0f", $0) } ?? "not reached" }
}
