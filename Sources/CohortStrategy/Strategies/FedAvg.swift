public import CohortModel
import CohortTensor

/// Federated averaging (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized
/// Data", AISTATS 2017): the next global model is the current one plus the example-weighted mean of the sites'
/// updates, scaled by a server learning rate (1 gives plain FedAvg).
public struct FedAvg: DeltaServerRule {
    public var serverLearningRate: Float
    public var weighting: WeightedDeltaAggregator.Weighting

    public init(serverLearningRate: Float = 1, weighting: WeightedDeltaAggregator.Weighting = .examples) {
        self.serverLearningRate = serverLearningRate
        self.weighting = weighting
    }

    public var name: String { "fedavg" }

    public func initialState(for global: ModelParameters) -> Int { 0 }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> WeightedDeltaAggregator {
        WeightedDeltaAggregator(parameterCount: global.count, weighting: self.weighting, expectedSites: Set(plan.participants))
    }

    public func finishRound(global: ModelParameters, aggregator: WeightedDeltaAggregator, state: inout Int) -> ModelParameters {
        self.apply(meanDelta: aggregator.meanDelta, to: global, state: &state)
    }

    public func apply(meanDelta: [Float], to global: ModelParameters, state: inout Int) -> ModelParameters {
        state += 1
        var next = global
        next.flat.addScaled(meanDelta, by: self.serverLearningRate)
        return next
    }
}

/// FedAvg with server momentum (Hsu, Qi and Brown, "Measuring the Effects of Non-Identical Data Distribution for
/// Federated Visual Classification", 2019): `v = beta * v + mean delta; w = w + eta * v`.
public struct FedAvgM: DeltaServerRule {
    public var serverLearningRate: Float
    public var momentum: Float

    public init(serverLearningRate: Float = 1, momentum: Float = 0.9) {
        self.serverLearningRate = serverLearningRate
        self.momentum = momentum
    }

    public var name: String { "fedavgm" }

    public func initialState(for global: ModelParameters) -> [Float] {
        [Float](repeating: 0, count: global.count)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> WeightedDeltaAggregator {
        WeightedDeltaAggregator(parameterCount: global.count, expectedSites: Set(plan.participants))
    }

    public func finishRound(global: ModelParameters, aggregator: WeightedDeltaAggregator, state velocity: inout [Float]) -> ModelParameters {
        self.apply(meanDelta: aggregator.meanDelta, to: global, state: &velocity)
    }

    public func apply(meanDelta delta: [Float], to global: ModelParameters, state velocity: inout [Float]) -> ModelParameters {
        velocity.scale(by: self.momentum)
        velocity.addScaled(delta, by: 1)
        var next = global
        next.flat.addScaled(velocity, by: self.serverLearningRate)
        return next
    }
}

/// Cyclic training (as in FLamby's "Cyclic" baseline; cf. Chang et al., "Distributed deep learning networks among
/// institutions for medical imaging", JAMIA 2018): each round one site, in name order, trains from the current model
/// and its result becomes the next model. Sites that do not answer are skipped (the model is left unchanged).
public struct Cyclic: DeltaServerRule {
    public init() {}

    public var name: String { "cyclic" }

    public func initialState(for global: ModelParameters) -> Int { 0 }

    public func configureRound(_ context: RoundContext) -> RoundPlan {
        var c = context
        c.selection = .roundRobin
        return RoundPlan(
            round: context.round, participants: Self.select(c, count: 1),
            instructions: TrainInstructions(round: context.round, training: context.training, seed: context.seed),
            availableCount: context.available.count)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> WeightedDeltaAggregator {
        WeightedDeltaAggregator(parameterCount: global.count, expectedSites: Set(plan.participants))
    }

    public func finishRound(global: ModelParameters, aggregator: WeightedDeltaAggregator, state: inout Int) -> ModelParameters {
        self.apply(meanDelta: aggregator.meanDelta, to: global, state: &state)
    }

    public func apply(meanDelta: [Float], to global: ModelParameters, state: inout Int) -> ModelParameters {
        state += 1
        var next = global
        next.flat.addScaled(meanDelta, by: 1)
        return next
    }
}
