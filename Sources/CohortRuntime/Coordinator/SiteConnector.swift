public import CohortModel
public import CohortStrategy

/// How the coordinator's round loop reaches sites: in process for simulation, over gRPC for deployments.
///
/// A connector delivers each site's result to the aggregator as soon as it arrives (streaming aggregation) and
/// reports every site that produced no usable result, with the reason.
public protocol SiteConnector: Sendable {
    /// Runs a training round at the plan's participants, feeding updates into `aggregator`.
    ///
    /// - Returns: the failures (dropouts, refusals, rejected updates), one per failed site.
    func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure]

    /// Evaluates `global` at the given sites.
    func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure])
}
