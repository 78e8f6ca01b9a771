public import CohortModel

/// A strategy whose next global model depends on the round only through the mean site update: FedAvg, FedAvgM and
/// the FedOpt family. Privacy wrappers (``CentralDP``, ``DistributedDP``) compute that mean their own way (clipped,
/// noised) and hand it to the rule.
public protocol DeltaServerRule: Strategy where Aggregator == WeightedDeltaAggregator {
    /// The next global model from a mean update.
    func apply(meanDelta: [Float], to global: ModelParameters, state: inout ServerState) -> ModelParameters
}
