public import CohortCompression
public import CohortModel
public import CohortTensor

/// A site as the coordinator sees it when planning a round.
public struct SiteInfo: Sendable, Hashable, Codable {
    /// The site's name (its certificate identity on the network).
    public var name: String
    /// Number of training examples the site declared.
    public var trainCount: Int

    public init(name: String, trainCount: Int) {
        self.name = name
        self.trainCount = trainCount
    }
}

/// What a site is asked to do in a training round.
public struct TrainInstructions: Sendable, Hashable, Codable {
    public var round: Int
    public var training: TrainingConfig
    /// The job seed; a site derives its randomness from it, its own name and the round.
    public var seed: UInt64
    /// SCAFFOLD's server control variate `c` (nil for other strategies).
    public var serverControl: [Float]?
    /// Distributed DP: the site clips its update and adds its share of the noise before sending it (nil: off).
    public var updatePrivacy: UpdatePrivacy?
    /// How the site encodes its update for the upload (nil: dense Float32).
    public var compression: CodecSpec?
    /// Secure aggregation: the site's update enters a masked sum and the coordinator learns only the sum (nil: off).
    public var secureSum: SecureSumSettings?
    /// Personalised layers (FedPer): the tensors the site keeps as its own across rounds. It trains them from its
    /// own values, keeps the result, and sends zeros in their place (nil: every tensor is shared).
    public var personalTensors: [String]?

    public init(round: Int, training: TrainingConfig, seed: UInt64, serverControl: [Float]? = nil, updatePrivacy: UpdatePrivacy? = nil,
                compression: CodecSpec? = nil, secureSum: SecureSumSettings? = nil, personalTensors: [String]? = nil) {
        self.personalTensors = personalTensors
        self.compression = compression
        self.secureSum = secureSum
        self.round = round
        self.training = training
        self.seed = seed
        self.serverControl = serverControl
        self.updatePrivacy = updatePrivacy
    }
}

/// The coordinator's plan for one round: who trains and how.
public struct RoundPlan: Sendable, Hashable, Codable {
    public var round: Int
    /// Selected sites, sorted by name.
    public var participants: [String]
    public var instructions: TrainInstructions
    /// Sites that were available when the round was planned.
    public var availableCount: Int

    public init(round: Int, participants: [String], instructions: TrainInstructions, availableCount: Int? = nil) {
        self.round = round
        self.participants = participants
        self.instructions = instructions
        self.availableCount = availableCount ?? participants.count
    }
}

/// A site's result of a training task: the change it made to the global model, never its data.
public struct SiteUpdate: Sendable, Hashable {
    public var site: String
    public var round: Int
    /// `local - global`, in the model's flat layout.
    public var delta: [Float]
    /// Training examples behind the update (FedAvg's weight).
    public var exampleCount: Int
    public var training: TrainingSummary
    /// SCAFFOLD's change of the site's control variate, `c_i+ - c_i` (nil for other strategies).
    public var controlDelta: [Float]?
    /// A regional aggregator's exact partial sum of its sites' weighted updates (then `delta` is empty and
    /// `exampleCount` is the region's total): merging it gives the same bits as aggregating the sites directly.
    public var partial: ExactAccumulator?
    /// Bytes moved for this update (set by the transport).
    public var transfer: TransferBytes?

    public init(site: String, round: Int, delta: [Float], exampleCount: Int, training: TrainingSummary, controlDelta: [Float]? = nil,
                partial: ExactAccumulator? = nil) {
        self.site = site
        self.round = round
        self.delta = delta
        self.exampleCount = exampleCount
        self.training = training
        self.controlDelta = controlDelta
        self.partial = partial
    }
}

/// Bytes a site's training task moved: the model (and control variate) it fetched, and the update it sent, with
/// what the update would have cost as dense Float32.
public struct TransferBytes: Sendable, Hashable, Codable {
    /// Coordinator to site.
    public var down: Int
    /// Site to coordinator, as sent.
    public var up: Int
    /// Site to coordinator had the update been sent as dense Float32.
    public var upDense: Int

    public init(down: Int, up: Int, upDense: Int) {
        self.down = down
        self.up = up
        self.upDense = upDense
    }

    enum CodingKeys: String, CodingKey {
        case down, up
        case upDense = "up_dense"
    }
}

/// A site's result of an evaluation task: metrics and mergeable summary statistics of its test set.
public struct SiteEvaluation: Sendable, Hashable, Codable {
    public var site: String
    /// Exact metrics on the site's test set.
    public var metrics: ClassificationMetrics
    /// Counts and histograms for pooling with other sites.
    public var summary: EvaluationSummary

    public init(site: String, metrics: ClassificationMetrics, summary: EvaluationSummary) {
        self.site = site
        self.metrics = metrics
        self.summary = summary
    }
}

extension SiteEvaluation {
    /// Several sites' evaluations as one (a region's): the summaries merged, the metrics of the merged summary.
    /// Pooled metrics over merged summaries equal those over the sites' own, so a regional tier changes no global
    /// metric. Nil for no results.
    public static func merged(_ results: [SiteEvaluation], as site: String) -> SiteEvaluation? {
        guard var summary = results.first?.summary else { return nil }
        for r in results.dropFirst() where r.summary.classCount == summary.classCount { summary.merge(r.summary) }
        return SiteEvaluation(site: site, metrics: summary.metrics, summary: summary)
    }
}

/// Why a site produced no usable result in a round.
public struct SiteFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        /// The site dropped out (simulated, disconnected, or timed out).
        public static let dropped = Code("dropped")
        /// The site refused the task under its policy.
        public static let refused = Code("refused")
        /// Training or evaluation failed at the site.
        public static let failed = Code("failed")
        /// The coordinator rejected the result (wrong shape, non-finite values, too large).
        public static let rejected = Code("rejected")
        /// The result arrived after the round closed.
        public static let late = Code("late")
        /// The update was accepted, but the strategy's robust aggregation rule set it aside (e.g. norm bounding
        /// dropped it, or Krum did not select it).
        public static let excluded = Code("excluded")
    }

    public var site: String
    public var code: Code
    public var message: String

    public init(site: String, code: Code, message: String) {
        self.site = site
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.site): \(self.code): \(self.message)" }
}
