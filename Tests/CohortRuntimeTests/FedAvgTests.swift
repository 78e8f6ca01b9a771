import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Testing

@Suite("FedAvg")
struct FedAvgTests {
    @Test("one full-batch gradient step per round equals centralized gradient descent on the pooled data")
    func equalsCentralizedGradientDescent() async throws {
        let sites = ToyFederation.sites(sizes: [17, 240, 61, 5, 130], features: 6, seed: 3)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 6, classCount: 2))
        let lr: Float = 0.5
        let rounds = 25
        // Federated: each site takes exactly one step with its whole training set as the batch.
        let executors = ToyFederation.executors(sites, network: net)
        let connector = InProcessSites(executors: executors, seed: 1)
        var settings = RunSettings(rounds: rounds, training: TrainingConfig(budget: .steps(1), batchSize: 10_000,
                                                                            optimizer: .sgd(learningRate: lr)), seed: 1)
        settings.evaluateEvery = 1000
        let controller = FederatedController(strategy: FedAvg(), settings: settings)
        let initial = ModelParameters(zeros: net.layout)
        let (_, final) = try await controller.run(
            from: controller.start(from: initial), sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: connector)
        // Centralized: full-batch gradient descent on the union, same learning rate and number of steps.
        var pooled = ExampleSet(featureCount: 6, classCount: 2)
        for s in sites { pooled.append(s.train) }
        var central = initial
        var rng = RandomSource(seed: 9)
        Trainer.train(net, parameters: &central, on: pooled,
                      config: TrainingConfig(budget: .steps(rounds), batchSize: pooled.count, optimizer: .sgd(learningRate: lr)),
                      rng: &rng)
        let diff = zip(final.global.flat, central.flat).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-5, "max difference \(diff)")
        #expect(central.flat.l2Norm > 0.5)  // the models actually moved
    }

    @Test("the aggregate does not depend on the order updates arrive in")
    func orderIndependent() throws {
        var rng = RandomSource(seed: 4)
        let names = (0..<20).map { "s\($0)" }
        let updates = names.map { n in
            SiteUpdate(site: n, round: 1, delta: (0..<500).map { _ in Float(rng.gaussian() * 0.01) },
                       exampleCount: 1 + rng.uniformInt(below: 3000), training: TrainingSummary(steps: 1, examplesSeen: 1, meanLoss: 0.5))
        }
        let plan = RoundPlan(round: 1, participants: names, instructions: TrainInstructions(round: 1, training: TrainingConfig(), seed: 1))
        let global = ModelParameters(layout: ParameterLayout([("w", [500])]), flat: [Float](repeating: 0.1, count: 500))
        var a = FedAvg().makeAggregator(for: plan, global: global)
        for u in updates { try a.accept(u) }
        var b = FedAvg().makeAggregator(for: plan, global: global)
        for u in updates.reversed() { try b.accept(u) }
        var s1 = 0, s2 = 0
        #expect(FedAvg().finishRound(global: global, aggregator: a, state: &s1) == FedAvg().finishRound(global: global, aggregator: b, state: &s2))
    }

    @Test("bad updates are refused with a reason and leave the aggregate unchanged")
    func refusesBadUpdates() throws {
        let plan = RoundPlan(round: 1, participants: ["a", "b"], instructions: TrainInstructions(round: 1, training: TrainingConfig(), seed: 1))
        let global = ModelParameters(zeros: ParameterLayout([("w", [3])]))
        var agg = FedAvg().makeAggregator(for: plan, global: global)
        let summary = TrainingSummary(steps: 1, examplesSeen: 1, meanLoss: 0)
        try agg.accept(SiteUpdate(site: "a", round: 1, delta: [1, 2, 3], exampleCount: 10, training: summary))
        let before = agg.meanDelta
        let cases: [(SiteUpdate, String)] = [
            (SiteUpdate(site: "b", round: 1, delta: [1, .nan, 3], exampleCount: 10, training: summary), "NaN"),
            (SiteUpdate(site: "b", round: 1, delta: [1, .infinity, 3], exampleCount: 10, training: summary), "inf"),
            (SiteUpdate(site: "b", round: 1, delta: [1, 2], exampleCount: 10, training: summary), "2 values"),
            (SiteUpdate(site: "c", round: 1, delta: [1, 2, 3], exampleCount: 10, training: summary), "not selected"),
            (SiteUpdate(site: "a", round: 1, delta: [1, 2, 3], exampleCount: 10, training: summary), "second update"),
            (SiteUpdate(site: "b", round: 1, delta: [1, 2, 3], exampleCount: 0, training: summary), "zero examples"),
        ]
        for (u, word) in cases {
            let e = #expect(throws: SiteFailure.self) { try agg.accept(u) }
            #expect(e?.code == .rejected)
            #expect(e?.message.contains(word) == true, "\(e?.message ?? "") should mention \(word)")
        }
        #expect(agg.meanDelta == before)
        #expect(agg.acceptedSites == ["a"])
    }

    @Test("FedAvgM with zero momentum equals FedAvg; with momentum it carries velocity across rounds")
    func fedAvgM() throws {
        let plan = RoundPlan(round: 1, participants: ["a"], instructions: TrainInstructions(round: 1, training: TrainingConfig(), seed: 1))
        let global = ModelParameters(zeros: ParameterLayout([("w", [2])]))
        let u = SiteUpdate(site: "a", round: 1, delta: [1, -1], exampleCount: 5, training: TrainingSummary(steps: 1, examplesSeen: 5, meanLoss: 0))
        var plain = FedAvg().makeAggregator(for: plan, global: global)
        try plain.accept(u)
        var s = 0
        let fedavg = FedAvg().finishRound(global: global, aggregator: plain, state: &s)
        let m0 = FedAvgM(momentum: 0)
        var v = m0.initialState(for: global)
        #expect(m0.finishRound(global: global, aggregator: plain, state: &v) == fedavg)
        let m = FedAvgM(serverLearningRate: 1, momentum: 0.5)
        var vel = m.initialState(for: global)
        let g1 = m.finishRound(global: global, aggregator: plain, state: &vel)
        let g2 = m.finishRound(global: g1, aggregator: plain, state: &vel)
        #expect(g2.flat == [2.5, -2.5])  // 1 + (0.5 * 1 + 1)
    }
}

@Suite("Hierarchical aggregation")
struct HierarchyTests {
    @Test("two tiers (regions, then the federation) give the same model as flat FedAvg, byte for byte", arguments: [2, 3])
    func twoTiersEqualFlat(regions: Int) async throws {
        let sites = ToyFederation.sites(sizes: [70, 20, 130, 45, 90, 60, 11], features: 5, seed: 12)
        let net = try DenseNetwork(ModelSpec(kind: .mlp, inputCount: 5, classCount: 2, hidden: [6]))
        let executors = ToyFederation.executors(sites, network: net)
        var initRng = RandomSource(seed: 1)
        let initial = net.initialParameters(rng: &initRng)
        var settings = RunSettings(rounds: 4, training: TrainingConfig(budget: .epochs(2), batchSize: 8, optimizer: .sgd(learningRate: 0.2)), seed: 4)
        settings.evaluateEvery = 0
        let controller = FederatedController(strategy: FedAvg(), settings: settings)
        let (_, flat) = try await controller.run(
            from: controller.start(from: initial), sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: InProcessSites(executors: executors, seed: 4))
        let tiers = RegionalSites(regions: RegionalSites.assign(executors, regions: regions), seed: 4)
        let (records, tiered) = try await controller.run(from: controller.start(from: initial), sites: tiers.siteInfos, connector: tiers)
        #expect(tiered.global.bytes == flat.global.bytes)
        #expect(records.allSatisfy { $0.aggregated.count == regions })
    }
}
