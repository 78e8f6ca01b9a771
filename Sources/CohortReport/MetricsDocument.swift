public import CohortModel
public import CohortRuntime
public import CohortStrategy
import Foundation

/// The `metrics.json` contract (format `cohort.metrics/1`), documented in `docs/metrics-json.md`.
///
/// Every metrics object holds `count`, `accuracy`, `balanced_accuracy`, `auc` (null when undefined), `loss`
/// (log loss), `f1` and `brier`.
public struct MetricsDocument: Sendable, Codable {
    public struct Run: Sendable, Codable {
        public var command: String
        public var cohortVersion: String
        public var created: String
        public var data: String
        public var schema: String
        public var model: ModelSpec
        public var strategy: String
        public var rounds: Int
        public var roundsRun: Int
        public var fraction: Double
        public var dropout: Double
        public var standardize: String
        public var localTraining: TrainingConfig
        public var seed: UInt64
        public var federatedSeconds: Double
        public var baselineSeconds: Double
        /// Differential privacy, when on.
        public var privacy: Privacy?
        /// Sites that refused the job (privacy budget), with their reason.
        public var refusedSites: [String: String]?
        /// The update codec (nil: dense Float32).
        public var compression: String?

        enum CodingKeys: String, CodingKey {
            case command, created, data, schema, model, strategy, rounds, fraction, dropout, standardize, seed
            case cohortVersion = "cohort_version"
            case roundsRun = "rounds_run"
            case localTraining = "local_training"
            case federatedSeconds = "federated_seconds"
            case baselineSeconds = "baseline_seconds"
            case privacy
            case refusedSites = "refused_sites"
            case compression
        }
    }

    /// A run's differential privacy: the mechanism and the final (ε, δ).
    public struct Privacy: Sendable, Codable {
        public var mode: String
        public var noiseMultiplier: Double
        public var clip: Double
        public var adaptiveClip: Bool
        public var delta: Double
        public var epsilon: Double
        /// "site" (central, distributed) or "record" (local DP-SGD; the worst site).
        public var unit: String
        public var rdpOrder: Double

        enum CodingKeys: String, CodingKey {
            case mode, clip, delta, epsilon, unit
            case noiseMultiplier = "noise_multiplier"
            case adaptiveClip = "adaptive_clip"
            case rdpOrder = "rdp_order"
        }
    }

    public struct Round: Sendable, Codable {
        public var round: Int
        /// Pooled metrics over all sites' test data (null in rounds without evaluation).
        public var global: ClassificationMetrics?
        public var siteMean: ClassificationMetrics?
        public var sites: [String: ClassificationMetrics]
        public var participants: [String]
        public var aggregated: [String]
        public var failures: [SiteFailureRecord]
        public var trainingLoss: Double?
        public var modelSHA256: String
        /// ε spent up to and including this round (with differential privacy).
        public var epsilon: Double?
        /// Bytes each aggregated site moved this round.
        public var bytes: [String: TransferBytes]?
        /// What a robust aggregation rule did beyond excluding sites (e.g. clipped updates); absent when nothing.
        public var notes: [String]?

        enum CodingKeys: String, CodingKey {
            case round, global, sites, participants, aggregated, failures, epsilon, bytes, notes
            case siteMean = "site_mean"
            case trainingLoss = "training_loss"
            case modelSHA256 = "model_sha256"
        }
    }

    public struct Pooled: Sendable, Codable {
        public var global: ClassificationMetrics
        public var siteMean: ClassificationMetrics
        public var sites: [String: ClassificationMetrics]

        enum CodingKeys: String, CodingKey {
            case global, sites
            case siteMean = "site_mean"
        }

        init(_ a: EvaluationAggregate) {
            self.global = a.global
            self.siteMean = a.siteMean
            self.sites = a.sites
        }
    }

    public struct Local: Sendable, Codable {
        /// Unweighted mean over sites of each site's own model on its own test data.
        public var mean: ClassificationMetrics
        public var sites: [String: ClassificationMetrics]
    }

    public struct Baselines: Sendable, Codable {
        public var local: Local?
        public var centralized: Pooled?
        /// With differential privacy: the same federation without it (the accuracy cost of privacy).
        public var federatedWithoutPrivacy: Pooled?

        enum CodingKeys: String, CodingKey {
            case local, centralized
            case federatedWithoutPrivacy = "federated_without_privacy"
        }
    }

    /// Global versus personalised models on each site's test data (see `docs/personalization.md`).
    public struct Personalization: Sendable, Codable {
        public struct Improvement: Sendable, Codable {
            /// Over the sites with test data (null: none).
            public var accuracy: Double?
            /// Over the sites where both AUCs are defined (null: none).
            public var auc: Double?
        }

        public var localLayers: Int
        public var fineTuneEpochs: Int
        /// The tensors each site kept.
        public var personalTensors: [String]
        /// Which models `mean_improvement` compares with the global one: "personal head", "fine-tuned" or both.
        public var personalized: String
        public var global: Pooled
        public var personalHead: Pooled?
        public var fineTuned: Pooled?
        /// Mean over sites of personalised minus global.
        public var meanImprovement: Improvement
        /// Sites whose personalised accuracy beats the global model's, of the sites compared (those with test data).
        public var sitesImproved: Int
        public var sitesCompared: Int

        enum CodingKeys: String, CodingKey {
            case global, personalized
            case localLayers = "local_layers"
            case fineTuneEpochs = "fine_tune_epochs"
            case personalTensors = "personal_tensors"
            case personalHead = "personal_head"
            case fineTuned = "fine_tuned"
            case meanImprovement = "mean_improvement"
            case sitesImproved = "sites_improved"
            case sitesCompared = "sites_compared"
        }

        init(_ p: PersonalizationResult) {
            self.localLayers = p.settings.localLayers
            self.fineTuneEpochs = p.settings.fineTuneEpochs
            self.personalTensors = p.personalTensors
            self.personalized = p.personalizedName
            self.global = Pooled(p.global)
            self.personalHead = p.personalHead.map(Pooled.init)
            self.fineTuned = p.fineTuned.map(Pooled.init)
            self.meanImprovement = Improvement(accuracy: p.meanAccuracyImprovement, auc: p.meanAUCImprovement)
            self.sitesImproved = p.sitesImproved
            self.sitesCompared = p.sitesCompared
        }
    }

    public struct Model: Sendable, Codable {
        public var file: String
        public var card: String
        public var sha256: String
        public var parameterCount: Int

        enum CodingKeys: String, CodingKey {
            case file, card, sha256
            case parameterCount = "parameter_count"
        }
    }

    public var format = "cohort.metrics/1"
    public var run: Run
    public var sites: [SiteDescription]
    public var rounds: [Round]
    public var final: Pooled
    public var baselines: Baselines
    public var model: Model
    /// Present when the run personalised (personal layers or fine-tuning).
    public var personalization: Personalization?

    /// JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

