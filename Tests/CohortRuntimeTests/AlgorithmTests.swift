import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Testing

/// Sites with quadratic losses f_i(x) = 1/2 Σ_j h_ij (x_j - a_ij)², trained with K plain gradient steps: the setting
/// in which FedAvg's client drift is exactly computable.
struct QuadraticSites: SiteConnector {
    let curvature: [[Float]]
    let optimum: [[Float]]
    let steps: Int
    let learningRate: Float
    let controls = SiteStateStore()

    var names: [String] { (0..<self.curvature.count).map { "q\($0)" } }

    /// The federation's optimum of Σ_i f_i: Σ h_i a_i / Σ h_i per coordinate.
    var globalOptimum: [Float] {
        (0..<self.curvature[0].count).map { j in
            var num: Float = 0, den: Float = 0
            for i in self.curvature.indices {
                num += self.curvature[i][j] * self.optimum[i][j]
                den += self.curvature[i][j]
            }
            return num / den
        }
    }

    func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        for name in plan.participants {
            let i = Int(name.dropFirst())!
            var x = global.flat
            let c = plan.instructions.serverControl
            let ci = await self.controls.value(site: name, key: "c") ?? [Float](repeating: 0, count: x.count)
            let correction = c.map { ScaffoldSite.correction(server: $0, site: ci) }
            for _ in 0..<self.steps {
                for j in x.indices {
                    var g = self.curvature[i][j] * (x[j] - self.optimum[i][j])
                    if let correction { g += correction[j] }
                    x[j] -= self.learningRate * g
                }
            }
            var controlDelta: [Float]?
            if let c {
                let r = ScaffoldSite.update(global: global.flat, local: x, steps: self.steps, learningRate: self.learningRate, server: c, site: ci)
                self.controls.keep(site: name, key: "c", value: r.newControl)
                controlDelta = r.controlDelta
            }
            x.addScaled(global.flat, by: -1)
            try? aggregator.accept(SiteUpdate(site: name, round: plan.round, delta: x, exampleCount: 1,
                                              training: TrainingSummary(steps: self.steps, examplesSeen: 1, meanLoss: 0), controlDelta: controlDelta))
        }
        return []
    }

    func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        ([], [])
    }
}

@Suite("Strategies with known answers")
struct AlgorithmTests {
    static func run<S: Strategy>(_ strategy: S, on sites: QuadraticSites, rounds: Int) async throws -> [Float] {
        let d = sites.curvature[0].count
        var settings = RunSettings(rounds: rounds, training: TrainingConfig(optimizer: .sgd(learningRate: sites.learningRate)), seed: 1)
        settings.evaluateEvery = 0
        let controller = FederatedController(strategy: strategy, settings: settings)
        let start = controller.start(from: ModelParameters(zeros: ParameterLayout([("x", [d])])))
        let (_, final) = try await controller.run(from: start, sites: sites.names.map { SiteInfo(name: $0, trainCount: 1) }, connector: sites)
        return final.global.flat
    }

    static func distance(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    }

    @Test("SCAFFOLD's control variates cancel client drift on a quadratic problem; FedAvg converges to a biased point")
    func scaffoldCancelsDrift() async throws {
        var rng = RandomSource(seed: 3)
        let d = 5
        let curvature = (0..<4).map { _ in (0..<d).map { _ in Float(rng.uniform(0.2, 3)) } }
        let optimum = (0..<4).map { _ in (0..<d).map { _ in Float(rng.gaussian() * 3) } }
        let fedavgSites = QuadraticSites(curvature: curvature, optimum: optimum, steps: 20, learningRate: 0.1)
        let scaffoldSites = QuadraticSites(curvature: curvature, optimum: optimum, steps: 20, learningRate: 0.1)
        let target = fedavgSites.globalOptimum
        let fedavg = try await Self.run(FedAvg(), on: fedavgSites, rounds: 200)
        let scaffold = try await Self.run(Scaffold(), on: scaffoldSites, rounds: 200)
        #expect(Self.distance(scaffold, target) < 1e-3, "SCAFFOLD ended \(Self.distance(scaffold, target)) from the optimum")
        #expect(Self.distance(fedavg, target) > 0.1, "FedAvg ended \(Self.distance(fedavg, target)) from the optimum")
        // With one local step there is no drift: FedAvg reaches the optimum too.
        let oneStep = QuadraticSites(curvature: curvature, optimum: optimum, steps: 1, learningRate: 0.1)
        #expect(Self.distance(try await Self.run(FedAvg(), on: oneStep, rounds: 2000), target) < 1e-3)
    }

    /// One site whose update is minus a given gradient each round.
    struct GradientSite: SiteConnector {
        let gradients: [[Float]]
        func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
            var step = self.gradients[plan.round - 1]
            step.scale(by: -1)
            try? aggregator.accept(SiteUpdate(site: "only", round: plan.round, delta: step, exampleCount: 10,
                                              training: TrainingSummary(steps: 1, examplesSeen: 10, meanLoss: 0)))
            return []
        }
        func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) { ([], []) }
    }

    @Test("FedAdam with one site and tau -> 0 is Adam on that site's gradients", arguments: [FedOpt.Method.adam, .yogi, .adagrad])
    func fedOptMatchesServerOptimizer(method: FedOpt.Method) async throws {
        var rng = RandomSource(seed: 9)
        let d = 7, rounds = 12
        let gradients = (0..<rounds).map { _ in (0..<d).map { _ in Float(rng.gaussian()) } }
        let eta: Float = 0.05
        let strategy = FedOpt(method: method, serverLearningRate: eta, beta1: 0.9, beta2: 0.99, tau: 1e-12)
        var settings = RunSettings(rounds: rounds, training: TrainingConfig(), seed: 1)
        settings.evaluateEvery = 0
        let controller = FederatedController(strategy: strategy, settings: settings)
        let (_, final) = try await controller.run(
            from: controller.start(from: ModelParameters(zeros: ParameterLayout([("w", [d])]))),
            sites: [SiteInfo(name: "only", trainCount: 10)], connector: GradientSite(gradients: gradients))
        // The reference: the optimiser applied directly to the same gradients.
        var w = [Float](repeating: 0, count: d)
        switch method {
        case .adam:
            var adam = OptimizerState(spec: .adam(learningRate: eta, beta1: 0.9, beta2: 0.99, epsilon: 1e-12), count: d)
            for g in gradients { adam.apply(to: &w, gradient: g) }
        case .yogi, .adagrad:
            var m = [Float](repeating: 0, count: d), v = [Float](repeating: 0, count: d)
            for (t, g) in gradients.enumerated() {
                for i in 0..<d {
                    m[i] = 0.9 * m[i] + 0.1 * g[i]
                    if method == .yogi {
                        let s: Float = v[i] > g[i] * g[i] ? 1 : (v[i] < g[i] * g[i] ? -1 : 0)
                        v[i] -= 0.01 * g[i] * g[i] * s
                        let mh = m[i] / Float(1 - pow(0.9, Double(t + 1))), vh = v[i] / Float(1 - pow(0.99, Double(t + 1)))
                        w[i] -= eta * mh / (vh.squareRoot() + 1e-12)
                    } else {
                        v[i] += g[i] * g[i]
                        w[i] -= eta * m[i] / (v[i].squareRoot() + 1e-12)
                    }
                }
            }
        }
        let worst = zip(final.global.flat, w).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "\(method): max difference \(worst)")
        #expect(w.l2Norm > 0.05)
    }

    @Test("FedProx with mu = 0 is FedAvg; with mu > 0 local models stay closer to the global model")
    func fedProx() async throws {
        let sites = ToyFederation.sites(sizes: [80, 120, 60], features: 4, seed: 6)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 4, classCount: 2))
        func run(mu: Float) async throws -> (model: [Float], drift: Double) {
            let executors = ToyFederation.executors(sites, network: net)
            var settings = RunSettings(rounds: 3, training: TrainingConfig(budget: .epochs(5), batchSize: 8, optimizer: .sgd(learningRate: 0.3), proximalMu: mu), seed: 2)
            settings.evaluateEvery = 0
            let controller = FederatedController(strategy: FedAvg(), settings: settings)
            let connector = InProcessSites(executors: executors, seed: 2)
            let (records, final) = try await controller.run(from: controller.start(from: ModelParameters(zeros: net.layout)),
                                                            sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
                                                            connector: connector)
            _ = records
            // Drift of one site's local model from the final global model after one more local round.
            let u = try executors[0].train(global: final.global, instructions: TrainInstructions(round: 99, training: settings.training, seed: 2))
            return (final.global.flat, u.delta.l2Norm)
        }
        let plain = try await run(mu: 0)
        let fedavg: [Float] = try await {
            let executors = ToyFederation.executors(sites, network: net)
            var settings = RunSettings(rounds: 3, training: TrainingConfig(budget: .epochs(5), batchSize: 8, optimizer: .sgd(learningRate: 0.3)), seed: 2)
            settings.evaluateEvery = 0
            let controller = FederatedController(strategy: FedAvg(), settings: settings)
            return try await controller.run(from: controller.start(from: ModelParameters(zeros: net.layout)),
                                            sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
                                            connector: InProcessSites(executors: executors, seed: 2)).final.global.flat
        }()
        #expect(plain.model == fedavg)
        let prox = try await run(mu: 1)
        #expect(prox.model != plain.model)
        #expect(prox.drift < plain.drift)
    }
}

import Foundation
