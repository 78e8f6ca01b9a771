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

        enum CodingKeys: String, CodingKey {
            case command, created, data, schema, model, strategy, rounds, fraction, dropout, standardize, seed
            case cohortVersion = "cohort_version"
            case roundsRun = "rounds_run"
            case localTraining = "local_training"
            case federatedSeconds = "federated_seconds"
            case baselineSeconds = "baseline_seconds"
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
        /// What a robust aggregation rule did beyond excluding sites (e.g. clipped updates); absent when nothing.
        public var notes: [String]?

        enum CodingKeys: String, CodingKey {
            case round, global, sites, participants, aggregated, failures, notes
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

    /// JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

