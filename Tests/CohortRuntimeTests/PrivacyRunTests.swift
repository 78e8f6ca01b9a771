import CohortData
import CohortModel
import CohortPrivacy
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import CohortWire
import Foundation
import Testing

@Suite("Differential privacy in federated runs: central, distributed and local modes, accounting, budgets")
struct PrivacyRunTests {
    static let sizes = [120, 300, 60, 200, 90, 150]

    static func run(
        privacy: PrivacySettings?, strategy: StrategySpec = .fedAvg(), rounds: Int = 4, fraction: Double = 1, seed: UInt64 = 3,
        minimumSites: Int = 1
    ) async throws -> (records: [RoundRecord], model: ModelParameters) {
        let sites = ToyFederation.sites(sizes: Self.sizes, features: 4, seed: 9)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 4, classCount: 2))
        let executors = ToyFederation.executors(sites, network: net)
        let connector = InProcessSites(executors: executors, dropoutRate: 0, seed: seed, concurrency: 3)
        var initRng = RandomSource(seed: seed)
        let config = SimulationConfig(model: .logistic, strategy: strategy, settings: RunSettings(
            rounds: rounds, fraction: fraction, minimumSites: minimumSites,
            training: TrainingConfig(budget: .epochs(1), batchSize: 16, optimizer: .sgd(learningRate: 0.1)), seed: seed,
            privacy: privacy))
        let (records, final) = try await Simulation.federate(
            config: config, initial: net.initialParameters(rng: &initRng),
            sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) }, connector: connector)
        return (records, final.global)
    }

    @Test("central DP: epsilon per round matches the accountant at the site sampling rate, noise changes the model, seeds reproduce it")
    func central() async throws {
        let p = PrivacySettings(configuration: .central(noiseMultiplier: 1.1, clip: 0.5), delta: 1e-5)
        let a = try await Self.run(privacy: p, fraction: 0.5)
        let b = try await Self.run(privacy: p, fraction: 0.5)
        #expect(a.model.bytes == b.model.bytes)
        let plain = try await Self.run(privacy: nil, fraction: 0.5)
        #expect(plain.model.bytes != a.model.bytes)
        #expect(plain.records.allSatisfy { $0.privacy == nil })
        for r in a.records {
            let expected = try p.configuration.epsilon(rounds: r.round, samplingRate: 0.5, delta: 1e-5).epsilon
            let got = try #require(r.privacy)
            #expect(abs(got.epsilon - expected) <= 1e-9 * expected, "round \(r.round): \(got.epsilon) vs \(expected)")
            #expect(got.unit == "site" && got.delta == 1e-5)
        }
        #expect(zip(a.records, a.records.dropFirst()).allSatisfy { $0.privacy!.epsilon < $1.privacy!.epsilon })
        // More noise moves the model further from the noiseless one.
        let loud = try await Self.run(privacy: PrivacySettings(configuration: .central(noiseMultiplier: 20, clip: 0.5)), fraction: 0.5)
        func distance(_ x: ModelParameters) -> Float { zip(x.flat, plain.model.flat).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
        #expect(distance(loud.model) > distance(a.model))
    }

    @Test("central DP: a site's influence on a round is bounded by the clip norm over the number of sites")
    func clipBound() async throws {
        // With no noise (z ~ 0) the round's step is the mean of clipped updates: each coordinate of the mean moves
        // at most clip in L2 norm in total.
        let clip = 0.01
        let r = try await Self.run(privacy: PrivacySettings(configuration: .central(noiseMultiplier: 1e-9, clip: clip)), rounds: 1)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 4, classCount: 2))
        var initRng = RandomSource(seed: 3)
        let initial = net.initialParameters(rng: &initRng)
        var step = r.model.flat
        step.addScaled(initial.flat, by: -1)
        let norm = step.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        #expect(norm <= clip * 1.0001 && norm > clip * 0.5, "step norm \(norm)")
    }

    @Test("distributed DP: each site noises its clipped update; runs reproduce with seeded simulation noise")
    func distributed() async throws {
        let p = PrivacySettings(configuration: .distributed(noiseMultiplier: 1.0, clip: 0.5))
        let a = try await Self.run(privacy: p, minimumSites: 6)
        let b = try await Self.run(privacy: p, minimumSites: 6)
        #expect(a.model.bytes == b.model.bytes)
        let plain = try await Self.run(privacy: nil, minimumSites: 6)
        #expect(a.model.bytes != plain.model.bytes)
        let expected = try p.configuration.epsilon(rounds: 4, samplingRate: 1, delta: 1e-5).epsilon
        #expect(abs((a.records.last?.privacy?.epsilon ?? 0) - expected) <= 1e-9 * expected)
    }

    @Test("local DP-SGD: training is private inside each site; the report is the worst site's record-level epsilon")
    func local() async throws {
        let z = 1.2, clip = 1.0
        let p = PrivacySettings(configuration: .local(noiseMultiplier: z, clip: clip))
        let a = try await Self.run(privacy: p, rounds: 3)
        let plain = try await Self.run(privacy: nil, rounds: 3)
        #expect(a.model.bytes != plain.model.bytes)
        let got = try #require(a.records.last?.privacy)
        #expect(got.unit == "record")
        // The smallest site (60 examples, batch 16) has the highest sampling rate and spends the most.
        let training = TrainingConfig(budget: .epochs(1), batchSize: 16, optimizer: .sgd(learningRate: 0.1))
        let worst = try p.spend(rounds: 3, fraction: 1, training: training, examples: 60)
        #expect(abs(got.epsilon - worst.epsilon) <= 1e-9 * worst.epsilon, "\(got.epsilon) vs \(worst.epsilon)")
        let biggest = try p.spend(rounds: 3, fraction: 1, training: training, examples: 300)
        #expect(biggest.epsilon < worst.epsilon)
    }

    @Test("SCAFFOLD refuses central and distributed DP; adaptive clipping that leaves no budget is refused")
    func unsupported() async throws {
        await #expect(throws: StrategyOpener.Unsupported.self) {
            _ = try await Self.run(privacy: PrivacySettings(configuration: .central(noiseMultiplier: 1, clip: 1)), strategy: .scaffold())
        }
        let starved = PrivacySettings(configuration: .central(
            noiseMultiplier: 2, clip: 1, adaptive: AdaptiveClipping.Settings(countNoiseStandardDeviation: 0.5)))
        await #expect(throws: PrivacyError.self) { _ = try await Self.run(privacy: starved) }
    }

    @Test("FedOpt and FedAvgM run under central DP (the noised mean feeds the server optimizer)")
    func wrappedRules() async throws {
        let p = PrivacySettings(configuration: .central(noiseMultiplier: 0.8, clip: 1))
        for s: StrategySpec in [.fedAvgM(), .fedOpt(.adam), .fedOpt(.yogi)] {
            let r = try await Self.run(privacy: p, strategy: s)
            let finite = r.model.flat.allSatisfy { $0.isFinite }
            #expect(finite)
            #expect(r.records.allSatisfy { $0.applied && $0.privacy != nil })
        }
    }

    @Test("privacy options: a target epsilon is calibrated, contradictions and bad values are named")
    func options() throws {
        let s = try PrivacyOptionsParser.settings(
            mode: "central", noiseMultiplier: nil, targetEpsilon: 3, clip: nil, delta: nil, adaptive: nil,
            secureAggregation: false, rounds: 20, fraction: 0.2, keyPrefix: "--")
        let spent = try s.configuration.epsilon(rounds: 20, samplingRate: 0.2, delta: 1e-5).epsilon
        #expect(spent <= 3 && spent > 2.99, "calibrated epsilon \(spent)")
        #expect(s.configuration.clip == 1 && s.delta == 1e-5)
        func problem(_ body: () throws -> PrivacySettings) -> String? {
            do { _ = try body(); return nil } catch let e as PrivacyOptionsParser.Problem { return e.key } catch { return "other: \(error)" }
        }
        #expect(problem { try PrivacyOptionsParser.settings(mode: "central", noiseMultiplier: 1, targetEpsilon: 3, clip: nil, delta: nil, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--target_epsilon")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "central", noiseMultiplier: nil, targetEpsilon: nil, clip: nil, delta: nil, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--noise_multiplier")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "globl", noiseMultiplier: 1, targetEpsilon: nil, clip: nil, delta: nil, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "privacy.") } == "privacy.mode")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "central", noiseMultiplier: 1, targetEpsilon: nil, clip: -1, delta: nil, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--clip")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "central", noiseMultiplier: 1, targetEpsilon: nil, clip: nil, delta: 2, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--delta")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "local", noiseMultiplier: nil, targetEpsilon: 3, clip: nil, delta: nil, adaptive: nil, secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--target_epsilon")
        #expect(problem { try PrivacyOptionsParser.settings(mode: "distributed", noiseMultiplier: 1, targetEpsilon: nil, clip: nil, delta: nil, adaptive: AdaptiveClipping.Settings(countNoiseStandardDeviation: 1), secureAggregation: false, rounds: 5, fraction: 1, keyPrefix: "--") } == "--adaptive_clip")
        // Local calibration for a known site size.
        let training = TrainingConfig(budget: .epochs(1), batchSize: 32)
        let local = try PrivacyOptionsParser.settings(
            mode: "local", noiseMultiplier: nil, targetEpsilon: 2, clip: 1, delta: nil, adaptive: nil, secureAggregation: false,
            rounds: 5, fraction: 1, training: training, localExamples: 500, keyPrefix: "--")
        let e = try local.spend(rounds: 5, fraction: 1, training: training, examples: 500).epsilon
        #expect(e <= 2 && e > 1.99)
    }

    @Test("simulation: sites whose budget the job would exceed refuse it; none left is an error; no DP with a budget is an error")
    func budgets() async throws {
        let federation = try FederationLoader.synthetic(seed: 3, hospitals: 6)
        let counts = federation.encoded(standardize: .perSite).0.map { ($0.name, $0.train.count) }.sorted { $0.1 < $1.1 }
        let training = TrainingConfig(budget: .epochs(1), batchSize: 20)
        var config = SimulationConfig(model: .logistic, settings: RunSettings(rounds: 2, training: training, seed: 1,
                                                                                privacy: PrivacySettings(configuration: .local(noiseMultiplier: 1, clip: 1))),
                                      baselines: false)
        let p = config.settings.privacy!
        let small = try p.spend(rounds: 2, fraction: 1, training: training, examples: counts[0].1).epsilon
        let next = try p.spend(rounds: 2, fraction: 1, training: training, examples: counts[1].1).epsilon
        let large = try p.spend(rounds: 2, fraction: 1, training: training, examples: counts.last!.1).epsilon
        #expect(small > next)
        config.siteMaxEpsilon = (small + next) / 2  // the smallest site spends the most and refuses
        let result = try await Simulation.run(federation: federation, config: config)
        #expect(Set(result.refused.keys) == [counts[0].0])
        #expect(result.refused[counts[0].0]?.contains("max_epsilon") == true)
        #expect(Set(result.sites.map(\.name)) == Set(counts.dropFirst().map(\.0)))
        #expect(result.rounds.allSatisfy { !$0.participants.contains(counts[0].0) && $0.participants.count == 5 })

        config.siteMaxEpsilon = large / 2
        await #expect(throws: DataError.self) { _ = try await Simulation.run(federation: federation, config: config) }
        config.settings.privacy = nil
        config.siteMaxEpsilon = 10
        await #expect(throws: DataError.self) { _ = try await Simulation.run(federation: federation, config: config) }
    }

    @Test("job.yaml privacy and strategy sections parse, and survive the wire unchanged")
    func jobFileAndWire() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.yaml", "columns:\n  - {name: a, type: numeric}\n  - {name: label, type: binary, role: label}\n")
        let spec = try JobFile.load(try dir.write("job.yaml", """
            name: j
            schema: schema.yaml
            rounds: 10
            fraction: 0.5
            selection: availability
            strategy: {name: fedyogi, server_learning_rate: 0.05, beta1: 0.8, beta2: 0.95, tau: 0.001}
            privacy: {mode: central, target_epsilon: 4, clip: 0.7, delta: 1e-6, adaptive_clip: {target_quantile: 0.6}}
            """))
        #expect(spec.strategy == .fedOpt(.yogi, serverLearningRate: 0.05, beta1: 0.8, beta2: 0.95, tau: 0.001))
        #expect(spec.selection == .availability && spec.runSettings.selection == .availability)
        let p = try #require(spec.privacy)
        #expect(p.delta == 1e-6 && p.configuration.clip == 0.7)
        guard case .central(let z, _, let adaptive?) = p.configuration.mode else { Issue.record("not central adaptive"); return }
        #expect(adaptive.targetQuantile == 0.6 && adaptive.countNoiseStandardDeviation == z)
        #expect(try p.configuration.epsilon(rounds: 10, samplingRate: 0.5, delta: 1e-6).epsilon <= 4)
        #expect(try Cohort_V1_JobSpec(spec).jobSpec() == spec)

        for strategy: StrategySpec in [.fedProx(mu: 0.1), .scaffold(serverLearningRate: 0.5), .fedOpt(.adagrad, serverLearningRate: 0.2), .cyclic] {
            var s = spec
            s.strategy = strategy
            s.privacy = PrivacySettings(configuration: .local(noiseMultiplier: 0.9, clip: 2), delta: 1e-5, secureAggregation: true)
            #expect(try Cohort_V1_JobSpec(s).jobSpec() == s)
        }
        #expect(spec.runSettings.siteTraining.examplePrivacy == nil)
        var local = spec
        local.privacy = PrivacySettings(configuration: .local(noiseMultiplier: 0.9, clip: 2))
        local.strategy = .fedProx(mu: 0.3)
        #expect(local.runSettings.siteTraining.examplePrivacy == ExampleLevelPrivacy(noiseMultiplier: 0.9, clip: 2))
        #expect(local.runSettings.training.proximalMu == 0.3)

        func key(_ yaml: String) -> String? {
            do { _ = try JobFile.load(try dir.write("bad.yaml", "name: j\nschema: schema.yaml\n" + yaml)); return nil } catch let e as JobSpecError { return e.key } catch { return "other" }
        }
        #expect(key("privacy: {mode: central}") == "privacy.noise_multiplier")
        #expect(key("privacy: {mode: everywhere, noise_multiplier: 1}") == "privacy.mode")
        #expect(key("privacy: {mode: central, noise_multiplier: 1, delta: 3}") == "privacy.delta")
        #expect(key("strategy: {name: scaffold}\nprivacy: {mode: central, noise_multiplier: 1}") == "privacy.mode")
        #expect(key("strategy: {name: fedprox, mu: -1}") == "strategy.mu")
        #expect(key("selection: fastest") == "selection")
    }
}
