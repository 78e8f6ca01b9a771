public import CohortModel
public import CohortTensor

/// Everything a strategy may use to plan a round.
public struct RoundContext: Sendable {
    public var round: Int
    public var global: ModelParameters
    /// Sites that can take part, sorted by name.
    public var available: [SiteInfo]
    /// Fraction of available sites to select (1: all).
    public var fraction: Double
    /// Never select fewer than this many (when available).
    public var minimumSites: Int
    /// Local training settings for this round.
    public var training: TrainingConfig
    /// The job seed.
    public var seed: UInt64
    /// How participants are chosen.
    public var selection: SelectionPolicy
    /// Who was selected and answered in earlier rounds.
    public var history: SelectionHistory

    public init(round: Int, global: ModelParameters, available: [SiteInfo], fraction: Double, minimumSites: Int,
                training: TrainingConfig, seed: UInt64, selection: SelectionPolicy = .uniform, history: SelectionHistory = SelectionHistory()) {
        self.selection = selection
        self.history = history
        self.round = round
        self.global = global
        self.available = available
        self.fraction = fraction
        self.minimumSites = minimumSites
        self.training = training
        self.seed = seed
    }
}

/// A federated optimisation strategy: it plans rounds and turns site results into the next global model.
///
/// A strategy only decides. It never performs I/O and never sees sites' data; the runtime owns the loop, moves
/// messages and handles failures, so the same strategy runs in simulation, over the network and in hierarchies.
/// Aggregation is streaming: the runtime hands results one at a time to the strategy's ``Aggregator`` as they
/// arrive.
public protocol Strategy: Sendable {
    /// State the coordinator keeps between rounds (e.g. server momentum); persisted with checkpoints.
    associatedtype ServerState: Sendable & Hashable & Codable
    /// Accumulates one round's site updates.
    associatedtype Aggregator: UpdateAggregator

    /// A short name for reports, e.g. `fedavg`.
    var name: String { get }

    /// The state before the first round.
    func initialState(for global: ModelParameters) -> ServerState

    /// Chooses the participants of a round and their instructions.
    func configureRound(_ context: RoundContext) -> RoundPlan

    /// Chooses the participants of a round and their instructions, seeing the server state (e.g. SCAFFOLD sends its
    /// control variate). The default ignores the state.
    func configureRound(_ context: RoundContext, state: ServerState) -> RoundPlan

    /// A fresh aggregator for a round.
    func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> Aggregator

    /// A fresh aggregator for a round, seeing the server state (e.g. an adaptive clip norm). The default ignores it.
    func makeAggregator(for plan: RoundPlan, global: ModelParameters, state: ServerState) -> Aggregator

    /// The next global model from the round's aggregate (called only when at least one update was accepted).
    func finishRound(global: ModelParameters, aggregator: Aggregator, state: inout ServerState) -> ModelParameters
}

/// Accumulates site updates of one round.
public protocol UpdateAggregator: Sendable {
    /// Adds one site's update, or throws (leaving the aggregate unchanged) if it is unusable.
    mutating func accept(_ update: SiteUpdate) throws(SiteFailure)

    /// Sites whose updates were accepted, in acceptance order.
    var acceptedSites: [String] { get }

    /// Accepted sites' training reports.
    var siteTraining: [String: SiteTrainingRecord] { get }
}

extension Strategy {
    /// The default plan: the context's selection policy and training settings.
    public func configureRound(_ context: RoundContext) -> RoundPlan {
        RoundPlan(
            round: context.round, participants: self.selectSites(context),
            instructions: TrainInstructions(round: context.round, training: context.training, seed: context.seed),
            availableCount: context.available.count)
    }

    public func configureRound(_ context: RoundContext, state: ServerState) -> RoundPlan {
        self.configureRound(context)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters, state: ServerState) -> Aggregator {
        self.makeAggregator(for: plan, global: global)
    }
}

/// Pooled view of a round's site evaluations.
public struct EvaluationAggregate: Sendable, Hashable, Codable {
    /// Metrics over all test examples of all sites together.
    public var global: ClassificationMetrics
    /// Unweighted mean of the per-site metrics.
    public var siteMean: ClassificationMetrics
    /// Per-site metrics by site name.
    public var sites: [String: ClassificationMetrics]

    enum CodingKeys: String, CodingKey {
        case global, sites
        case siteMean = "site_mean"
    }

    /// Pools site evaluations (merged in site-name order, so the result does not depend on arrival order).
    public init?(_ evaluations: [SiteEvaluation]) {
        let sorted = evaluations.sorted { $0.site < $1.site }
        guard var pooled = sorted.first?.summary else { return nil }
        for e in sorted.dropFirst() { pooled.merge(e.summary) }
        self.global = pooled.metrics
        self.siteMean = ClassificationMetrics.mean(sorted.map(\.metrics))
        self.sites = Dictionary(uniqueKeysWithValues: sorted.map { ($0.site, $0.metrics) })
    }
}

extension ClassificationMetrics {
    /// Unweighted mean of several metric sets (AUC over the sets where it is defined).
    public static func mean(_ all: [ClassificationMetrics]) -> ClassificationMetrics {
        let n = Double(all.count)
        func avg(_ f: (ClassificationMetrics) -> Double) -> Double { all.map(f).reduce(0, +) / n }
        let aucs = all.compactMap(\.auc)
        return ClassificationMetrics(
            count: all.map(\.count).reduce(0, +),
            accuracy: avg(\.accuracy), balancedAccuracy: avg(\.balancedAccuracy),
            auc: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count),
            logLoss: avg(\.logLoss), f1: avg(\.f1), brier: avg(\.brier))
    }
}
