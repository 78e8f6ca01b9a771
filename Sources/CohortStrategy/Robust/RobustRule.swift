public import CohortModel

/// What the robust rules share: they buffer every accepted update (``BufferedAggregator``), count rounds as their
/// state, and do their work in ``Strategy/completeRound(global:aggregator:state:)``.
public protocol RobustRule: Strategy where ServerState == Int, Aggregator == BufferedAggregator {}

extension RobustRule {
    public func initialState(for global: ModelParameters) -> Int { 0 }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> BufferedAggregator {
        BufferedAggregator(parameterCount: global.count, expectedSites: Set(plan.participants))
    }

    public func finishRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> ModelParameters {
        self.completeRound(global: global, aggregator: aggregator, state: &state).global
    }
}
