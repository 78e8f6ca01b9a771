public import CohortPrivacy
public import CohortCompression
public import CohortModel
public import CohortStrategy
public import CohortTensor

/// Settings of a federated training run.
public struct RunSettings: Sendable, Hashable, Codable {
    public var rounds: Int
    /// Fraction of sites selected per round.
    public var fraction: Double
    /// Minimum sites per round: fewer selected or answering, and the round is skipped.
    public var minimumSites: Int
    public var training: TrainingConfig
    public var seed: UInt64
    /// Evaluate the global model every this many rounds (and always after the last); 0: never.
    public var evaluateEvery: Int
    /// Stop early once the pooled test metric reaches a target.
    public var target: MetricTarget?
    /// Differential privacy (nil: off); the controller reports the (ε, δ) spent after each round.
    public var privacy: PrivacySettings?
    /// How each round's participants are chosen.
    public var selection: SelectionPolicy
    /// How sites encode their updates (nil: dense Float32).
    public var compression: CodecSpec?
    /// Personal layers and fine-tuning (nil: none); the round loop uses the personal layers, fine-tuning runs after it.
    public var personalization: Personalization?

    public init(rounds: Int, fraction: Double = 1, minimumSites: Int = 1, training: TrainingConfig, seed: UInt64,
                evaluateEvery: Int = 1, target: MetricTarget? = nil, privacy: PrivacySettings? = nil,
                selection: SelectionPolicy = .uniform, compression: CodecSpec? = nil, personalization: Personalization? = nil) {
        self.personalization = personalization
        self.compression = compression
        self.privacy = privacy
        self.selection = selection
        self.rounds = rounds
        self.fraction = fraction
        self.minimumSites = minimumSites
        self.training = training
        self.seed = seed
        self.evaluateEvery = evaluateEvery
        self.target = target
    }

    /// The training sites run: ``training`` with local DP-SGD switched on when the privacy mode is `local`.
    public var siteTraining: TrainingConfig {
        var t = self.training
        if case .local(let z, let clip)? = self.privacy?.configuration.mode {
            t.examplePrivacy = ExampleLevelPrivacy(noiseMultiplier: z, clip: Float(clip))
        }
        return t
    }

    /// These settings with what a strategy asks of local training (FedProx's proximal term).
    public func applying(_ strategy: StrategySpec) -> RunSettings {
        var s = self
        if let mu = strategy.proximalMu { s.training.proximalMu = mu }
        return s
    }
}

/// A stop condition on a pooled test metric.
public struct MetricTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Metric: String, Sendable, Hashable, Codable, CaseIterable {
        case accuracy, auc
        case balancedAccuracy = "balanced_accuracy"
        case f1
    }

    public var metric: Metric
    public var value: Double

    public init(metric: Metric, value: Double) {
        self.metric = metric
        self.value = value
    }

    public func isReached(by m: ClassificationMetrics) -> Bool {
        let v: Double? =
            switch self.metric {
            case .accuracy: m.accuracy
            case .auc: m.auc
            case .balancedAccuracy: m.balancedAccuracy
            case .f1: m.f1
            }
        return (v ?? -.infinity) >= self.value
    }

    public var description: String { "\(self.metric.rawValue) >= \(self.value)" }
}

/// What happened in one round.
public struct RoundRecord: Sendable, Hashable, Codable {
    public var round: Int
    /// Sites selected.
    public var participants: [String]
    /// Sites whose updates were aggregated, sorted (accepted updates a robust rule set aside are among the
    /// failures, code `excluded`).
    public var aggregated: [String]
    public var failures: [SiteFailureRecord]
    /// Example-weighted mean local training loss.
    public var trainingLoss: Double?
    /// Whether the global model changed (false when too few sites answered).
    public var applied: Bool
    /// Evaluation of the new global model (nil in rounds without evaluation).
    public var evaluation: EvaluationAggregate?
    /// SHA-256 of the global model's bytes after the round.
    public var modelSHA256: String
    /// The (ε, δ) spent up to and including this round (nil without differential privacy).
    public var privacy: PrivacyStatus?
    /// Bytes each aggregated site's training task moved.
    public var traffic: [String: TransferBytes]?
    /// What the strategy's aggregation rule did beyond excluding sites (e.g. clipped updates, a declined round).
    public var notes: [String]?

    enum CodingKeys: String, CodingKey {
        case round, participants, aggregated, failures, applied, evaluation, privacy, traffic, notes
        case trainingLoss = "training_loss"
        case modelSHA256 = "model_sha256"
    }
}

extension RoundRecord {
    /// The record of one model version of asynchronous training: the sites whose updates it applied.
    public static func asynchronous(
        version: Int, sites: [String], training: [String: SiteTrainingRecord], evaluation: EvaluationAggregate?, modelSHA256: String,
        notes: [String]? = nil
    ) -> RoundRecord {
        RoundRecord(round: version, participants: sites, aggregated: sites.sorted(), failures: [],
                    trainingLoss: training.isEmpty ? nil : SiteTrainingRecord.weightedLoss(training), applied: true,
                    evaluation: evaluation, modelSHA256: modelSHA256, notes: notes)
    }
}

/// A site failure as recorded in a round.
public struct SiteFailureRecord: Sendable, Hashable, Codable {
    public var site: String
    public var code: String
    public var message: String

    public init(_ f: SiteFailure) {
        self.site = f.site
        self.code = f.code.rawValue
        self.message = f.message
    }
}

/// The state of a run after a completed round: enough to resume it.
public struct RunCheckpoint<State: Sendable & Hashable & Codable>: Sendable, Hashable {
    /// Last completed round (0: none yet).
    public var round: Int
    public var global: ModelParameters
    public var state: State

    public init(round: Int, global: ModelParameters, state: State) {
        self.round = round
        self.global = global
        self.state = state
    }
}

/// Drives federated training round by round: plan, dispatch, aggregate, evaluate, checkpoint.
///
/// The loop is the same in simulation and on the network; only the ``SiteConnector`` differs. Given the same seed,
/// sites and data, it produces the same global models bit for bit, whatever order results arrive in.
public struct FederatedController<S: Strategy>: Sendable {
    public let strategy: S
    public let settings: RunSettings

    public init(strategy: S, settings: RunSettings) {
        self.strategy = strategy
        self.settings = settings
    }

    /// The privacy accountant of this run (nil without differential privacy).
    public func privacyTracker(sites: [SiteInfo]) -> PrivacyTracker? {
        try? self.settings.privacy.map {
            try PrivacyTracker(settings: $0, sites: sites, training: self.settings.siteTraining, fraction: self.settings.fraction)
        }
    }

    /// A checkpoint before the first round.
    public func start(from initial: ModelParameters) -> RunCheckpoint<S.ServerState> {
        RunCheckpoint(round: 0, global: initial, state: self.strategy.initialState(for: initial))
    }

    /// Runs one round from a checkpoint.
    public func runRound(
        from checkpoint: RunCheckpoint<S.ServerState>, sites: [SiteInfo], connector: some SiteConnector,
        privacy tracker: PrivacyTracker? = nil, history: SelectionHistory = SelectionHistory()
    ) async -> (record: RoundRecord, next: RunCheckpoint<S.ServerState>) {
        let round = checkpoint.round + 1
        let context = RoundContext(
            round: round, global: checkpoint.global, available: sites.sorted { $0.name < $1.name },
            fraction: self.settings.fraction, minimumSites: self.settings.minimumSites,
            training: self.settings.siteTraining, seed: self.settings.seed, selection: self.settings.selection, history: history)
        var plan = self.strategy.configureRound(context, state: checkpoint.state)
        plan.instructions.compression = self.settings.compression
        let personal = self.settings.personalization?.personalTensors(in: checkpoint.global.layout) ?? []
        if !personal.isEmpty { plan.instructions.personalTensors = personal }
        var aggregator = self.strategy.makeAggregator(for: plan, global: checkpoint.global, state: checkpoint.state)
        let failures = await connector.train(plan, global: checkpoint.global, aggregator: &aggregator)
        var next = checkpoint
        next.round = round
        var applied = aggregator.acceptedSites.count >= max(1, self.settings.minimumSites)
        var outcome: RoundOutcome?
        if applied {
            var state = checkpoint.state
            let o = self.strategy.completeRound(global: checkpoint.global, aggregator: aggregator, state: &state)
            if o.isApplied {
                next.global = o.global
                next.state = state
            }
            applied = o.isApplied
            outcome = o
        }
        if !personal.isEmpty, let ranges = next.global.layout.ranges(of: personal) {
            // The global head never changes: sites send zeros there, and whatever a rule or its noise put there is undone.
            next.global.replaceValues(in: ranges, with: checkpoint.global.values(in: ranges))
        }
        let excluded = Set(outcome?.excluded.map(\.site) ?? [])
        var evaluation: EvaluationAggregate?
        let every = self.settings.evaluateEvery
        if every > 0 && (round % every == 0 || round == self.settings.rounds) {
            let (results, _) = await connector.evaluate(round: round, sites: sites.map(\.name).sorted(), global: next.global)
            evaluation = EvaluationAggregate(results)
        }
        var record = RoundRecord(
            round: round, participants: plan.participants,
            aggregated: aggregator.acceptedSites.filter { !excluded.contains($0) }.sorted(),
            failures: (failures + (outcome?.excluded ?? [])).sorted { $0.site < $1.site }.map(SiteFailureRecord.init),
            trainingLoss: aggregator.acceptedSites.isEmpty ? nil : SiteTrainingRecord.weightedLoss(aggregator.siteTraining),
            applied: applied, evaluation: evaluation,
            modelSHA256: Safetensors.sha256Hex(next.global.bytes),
            privacy: (tracker ?? self.privacyTracker(sites: sites))?.status(afterRounds: round),
            notes: outcome.flatMap { $0.notes.isEmpty ? nil : $0.notes })
        let traffic = aggregator.siteTraining.compactMapValues(\.transfer)
        record.traffic = traffic.isEmpty ? nil : traffic
        return (record, next)
    }

    /// Runs rounds until the round limit or the target is reached.
    ///
    /// - Parameters:
    ///   - checkpoint: Where to start (``start(from:)`` for a new run, or a restored checkpoint).
    ///   - history: Earlier rounds' participants and answers (a resumed run passes its stored records' history).
    ///   - afterRound: Called after each round with its record and the new checkpoint, before the next round
    ///     starts (persist here). If it throws, the run stops with that error.
    public func run(
        from checkpoint: RunCheckpoint<S.ServerState>, sites: [SiteInfo], connector: some SiteConnector,
        history: SelectionHistory = SelectionHistory(),
        afterRound: @Sendable (RoundRecord, RunCheckpoint<S.ServerState>) async throws -> Void = { _, _ in }
    ) async throws -> (records: [RoundRecord], final: RunCheckpoint<S.ServerState>) {
        var current = checkpoint
        var records = [RoundRecord]()
        var history = history
        let tracker = self.privacyTracker(sites: sites)
        while current.round < self.settings.rounds {
            try Task.checkCancellation()
            let (record, next) = await self.runRound(from: current, sites: sites, connector: connector, privacy: tracker, history: history)
            history.record(participants: record.participants, aggregated: record.aggregated)
            try await afterRound(record, next)
            records.append(record)
            current = next
            if let target = self.settings.target, let e = record.evaluation, target.isReached(by: e.global) { break }
        }
        return (records, current)
    }
}
