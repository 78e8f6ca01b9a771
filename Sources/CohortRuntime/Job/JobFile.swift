public import CohortData
import CohortCompression
import CohortModel
import CohortPrivacy
import CohortStrategy
public import Foundation
import Yams

/// `job.yaml`: the file an admin writes to define a job.
///
/// ```yaml
/// name: readmission-mlp
/// sites: [hospital-01, hospital-02, hospital-03]   # optional; default: any connected site
/// min_sites: 3
/// schema: schema.yaml                  # path relative to this file
/// label: readmitted_30d                # optional
/// model: {kind: mlp, hidden: [64, 32], activation: relu}
/// strategy: {name: fedavg}             # fedavg | fedavgm | fedprox | scaffold | fedadam | fedyogi | fedadagrad | cyclic
///                                      # with server_learning_rate, momentum (fedavgm), mu (fedprox),
///                                      # beta1, beta2, tau (fedadam, fedyogi, fedadagrad)
///                                      # robust: {name: median} | {name: trimmed-mean, trim_fraction: 0.1}
///                                      # | {name: krum, byzantine: 2} | {name: multi-krum, byzantine: 2, selected: 8}
///                                      # | {name: bulyan, byzantine: 2} | {name: norm-bound, norm_multiple: 3, norm_mode: clip}
/// rounds: 20
/// fraction: 1.0
/// selection: uniform                   # uniform | weighted | round-robin | availability
/// compression: topk:0.01+q8+deflate    # optional update codec (docs/compression.md); default dense Float32
/// async: {mode: fedbuff, buffer: 3, server_learning_rate: 1, max_staleness: 10}   # or {mode: fedasync, alpha: 0.5}
/// training: {local_epochs: 1, batch_size: 32, optimizer: sgd, learning_rate: 0.1, momentum: 0, l2: 0, mu: 0}
/// standardize: per-site                # per-site | none
/// seed: 42
/// round_timeout_seconds: 600
/// wait_for_sites_seconds: 300
/// stop: {metric: auc, value: 0.8}      # optional
/// evaluate_every: 1
/// test_fraction: 0.25
/// privacy:                             # optional: differential privacy (docs/privacy.md)
///   mode: central                      # central | distributed | local
///   noise_multiplier: 1.0              # or target_epsilon: 3 (calibrated for this job's rounds and fraction)
///   clip: 1.0
///   delta: 1e-5
///   adaptive_clip: {target_quantile: 0.5, learning_rate: 0.2}   # central only
///   secure_aggregation: false
/// personalization:                     # optional (docs/personalization.md); simulation only for now
///   local_layers: 1                    # the last N dense layers stay at each site (FedPer); 0: share all
///   fine_tune_epochs: 2                # after the last round each site fine-tunes all layers locally
/// ```
public struct JobFile: Sendable, Codable {
    public struct Model: Sendable, Codable {
        public var kind: String
        public var hidden: [Int]?
        public var activation: String?
    }

    public struct Strategy: Sendable, Codable {
        public var name: String
        public var serverLearningRate: Float?
        public var momentum: Float?
        public var mu: Float?
        public var beta1: Float?
        public var beta2: Float?
        public var tau: Float?
        /// Assumed Byzantine sites (krum, multi-krum, bulyan).
        public var byzantine: Int?
        /// Updates Multi-Krum averages (default n - f).
        public var selected: Int?
        /// β of the trimmed mean.
        public var trimFraction: Double?
        /// Norm bound as a multiple of the round's median norm.
        public var normMultiple: Double?
        /// clip | drop.
        public var normMode: String?
        enum CodingKeys: String, CodingKey {
            case name, momentum, mu, beta1, beta2, tau, byzantine, selected
            case serverLearningRate = "server_learning_rate"
            case trimFraction = "trim_fraction"
            case normMultiple = "norm_multiple"
            case normMode = "norm_mode"
        }
    }

    public struct Privacy: Sendable, Codable {
        public struct Adaptive: Sendable, Codable {
            public var targetQuantile: Double?
            public var learningRate: Double?
            public var countNoiseStandardDeviation: Double?
            enum CodingKeys: String, CodingKey {
                case targetQuantile = "target_quantile"
                case learningRate = "learning_rate"
                case countNoiseStandardDeviation = "count_noise_stddev"
            }
        }
        public var mode: String
        public var noiseMultiplier: Double?
        public var targetEpsilon: Double?
        public var clip: Double?
        public var delta: Double?
        public var adaptiveClip: Adaptive?
        public var secureAggregation: Bool?
        enum CodingKeys: String, CodingKey {
            case mode, clip, delta
            case noiseMultiplier = "noise_multiplier"
            case targetEpsilon = "target_epsilon"
            case adaptiveClip = "adaptive_clip"
            case secureAggregation = "secure_aggregation"
        }
    }

    public struct Training: Sendable, Codable {
        public var localEpochs: Int?
        public var localSteps: Int?
        public var batchSize: Int?
        public var optimizer: String?
        public var learningRate: Float?
        public var momentum: Float?
        public var weightDecay: Float?
        public var l2: Float?
        public var mu: Float?
        public var classWeights: [Float]?
        enum CodingKeys: String, CodingKey {
            case optimizer, momentum, l2, mu
            case localEpochs = "local_epochs"
            case localSteps = "local_steps"
            case batchSize = "batch_size"
            case learningRate = "learning_rate"
            case weightDecay = "weight_decay"
            case classWeights = "class_weights"
        }
    }

    public struct Personalization: Sendable, Codable {
        public var localLayers: Int?
        public var fineTuneEpochs: Int?
        enum CodingKeys: String, CodingKey {
            case localLayers = "local_layers"
            case fineTuneEpochs = "fine_tune_epochs"
        }
    }

    public struct Stop: Sendable, Codable {
        public var metric: String
        public var value: Double
    }

    public var name: String
    public var sites: [String]?
    public var minSites: Int?
    public var schema: String
    public var label: String?
    public var model: Model?
    public var strategy: Strategy?
    public var rounds: Int?
    public var fraction: Double?
    public var training: Training?
    public var standardize: String?
    public var seed: UInt64?
    public var roundTimeoutSeconds: Int?
    public var waitForSitesSeconds: Int?
    public var stop: Stop?
    public var evaluateEvery: Int?
    public var testFraction: Double?
    public var privacy: Privacy?
    public var selection: String?
    public var compression: String?
    public var async: Async?

    /// `async:`: asynchronous training.
    public struct Async: Sendable, Codable {
        public var mode: String
        public var buffer: Int?
        public var serverLearningRate: Float?
        public var alpha: Float?
        public var maxStaleness: Int?
        enum CodingKeys: String, CodingKey {
            case mode, buffer, alpha
            case serverLearningRate = "server_learning_rate"
            case maxStaleness = "max_staleness"
        }
    }

    public var personalization: Personalization?

    enum CodingKeys: String, CodingKey {
        case name, sites, schema, label, model, strategy, rounds, fraction, training, standardize, seed, stop, privacy, selection, compression, async
        case personalization
        case minSites = "min_sites"
        case roundTimeoutSeconds = "round_timeout_seconds"
        case waitForSitesSeconds = "wait_for_sites_seconds"
        case evaluateEvery = "evaluate_every"
        case testFraction = "test_fraction"
    }

    /// Reads and checks a job file; relative schema paths resolve against the file's directory.
    public static func load(_ url: URL) throws -> JobSpec {
        let source = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw JobSpecError(file: source, key: "-", message: "cannot read the file: \(error.localizedDescription)")
        }
        let file: JobFile
        do { file = try YAMLDecoder().decode(JobFile.self, from: text) } catch let e as DecodingError {
            let m = DatasetSchema.describe(e)
            throw JobSpecError(file: source, key: Self.key(of: e) ?? "-", message: m)
        } catch {
            throw JobSpecError(file: source, key: "-", message: "not valid YAML: \(error)")
        }
        let schemaURL = URL(fileURLWithPath: file.schema, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
        let schemaText: String
        do { schemaText = try String(contentsOf: schemaURL, encoding: .utf8) } catch {
            throw JobSpecError(file: source, key: "schema", message: "cannot read \(schemaURL.path): \(error.localizedDescription)")
        }
        do { _ = try DatasetSchema.parse(yaml: schemaText, source: schemaURL.path) } catch {
            throw JobSpecError(file: source, key: "schema", message: error.description)
        }
        var spec = try file.spec(schemaYAML: schemaText, source: source)
        spec.schemaYAML = schemaText
        do { try spec.validate() } catch var e as JobSpecError {
            e.file = source
            throw e
        }
        return spec
    }

    static func key(of error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(let k, let c): path = c.codingPath + [k]
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        @unknown default: return nil
        }
        return path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }

    func spec(schemaYAML: String, source: String) throws -> JobSpec {
        func bad(_ key: String, _ m: String) -> JobSpecError { JobSpecError(file: source, key: key, message: m) }
        var spec = JobSpec(name: self.name, schemaYAML: schemaYAML)
        spec.sites = self.sites ?? []
        spec.minimumSites = self.minSites ?? max(1, spec.sites.count)
        spec.label = self.label
        if let m = self.model {
            guard let kind = ModelSpec.Kind(rawValue: m.kind) else { throw bad("model.kind", "'\(m.kind)' is not logistic, softmax or mlp") }
            spec.model = kind
            spec.hidden = kind == .mlp ? (m.hidden ?? [64, 32]) : []
            if let a = m.activation {
                guard let act = ModelSpec.Activation(rawValue: a) else { throw bad("model.activation", "'\(a)' is not relu or tanh") }
                spec.activation = act
            }
        }
        if let s = self.strategy {
            for (key, v) in [("server_learning_rate", s.serverLearningRate), ("momentum", s.momentum), ("mu", s.mu),
                             ("beta1", s.beta1), ("beta2", s.beta2), ("tau", s.tau)] {
                if let v, !(v.isFinite && v >= 0) { throw bad("strategy.\(key)", "must be a finite number, not negative") }
            }
            var mode: NormBound.Mode?
            if let m = s.normMode {
                guard let parsed = NormBound.Mode(rawValue: m) else { throw bad("strategy.norm_mode", "'\(m)' is not clip or drop") }
                mode = parsed
            }
            guard let st = StrategySpec(name: s.name, serverLearningRate: s.serverLearningRate, momentum: s.momentum, mu: s.mu,
                                        beta1: s.beta1, beta2: s.beta2, tau: s.tau,
                                        byzantine: s.byzantine, selected: s.selected, trimFraction: s.trimFraction,
                                        normMultiple: s.normMultiple, normMode: mode) else {
                throw bad("strategy.name", "'\(s.name)' is not one of \(StrategySpec.names.joined(separator: ", "))")
            }
            spec.strategy = st
        }
        spec.rounds = self.rounds ?? spec.rounds
        spec.fraction = self.fraction ?? spec.fraction
        if let sel = self.selection {
            guard let policy = SelectionPolicy(rawValue: sel) else {
                throw bad("selection", "'\(sel)' is not one of \(SelectionPolicy.names.joined(separator: ", "))")
            }
            spec.selection = policy
        }
        if let c = self.compression {
            do { spec.compression = try CodecSpec(parsing: c) } catch { throw bad("compression", "\(error)") }
        }
        if let a = self.async {
            let mode: AsyncMode
            switch a.mode {
            case "fedbuff": mode = .fedBuff(bufferSize: a.buffer ?? 3, serverLearningRate: a.serverLearningRate ?? 1)
            case "fedasync": mode = .fedAsync(alpha: a.alpha ?? 0.5)
            default: throw bad("async.mode", "'\(a.mode)' is not fedbuff or fedasync")
            }
            spec.asynchronous = AsyncJobSettings(mode: mode, maxStaleness: a.maxStaleness ?? 10)
        }
        if let t = self.training {
            if t.localEpochs != nil && t.localSteps != nil { throw bad("training", "give local_epochs or local_steps, not both") }
            var cfg = spec.training
            if let e = t.localEpochs { cfg.budget = .epochs(e) }
            if let s = t.localSteps { cfg.budget = .steps(s) }
            cfg.batchSize = t.batchSize ?? cfg.batchSize
            let lr = t.learningRate ?? cfg.optimizer.learningRate
            switch t.optimizer ?? "sgd" {
            case "sgd": cfg.optimizer = .sgd(learningRate: lr, momentum: t.momentum ?? 0, weightDecay: t.weightDecay ?? 0)
            case "adam": cfg.optimizer = .adam(learningRate: lr, weightDecay: t.weightDecay ?? 0)
            case let o: throw bad("training.optimizer", "'\(o)' is not sgd or adam")
            }
            cfg.loss = LossConfig(classWeights: t.classWeights, l2: t.l2 ?? 0)
            cfg.proximalMu = t.mu ?? 0
            spec.training = cfg
        }
        if let s = self.standardize {
            guard let mode = StandardizeMode(rawValue: s) else { throw bad("standardize", "'\(s)' is not per-site or none") }
            spec.standardize = mode
        }
        spec.seed = self.seed ?? spec.seed
        spec.roundTimeoutSeconds = self.roundTimeoutSeconds ?? spec.roundTimeoutSeconds
        spec.waitForSitesSeconds = self.waitForSitesSeconds ?? spec.waitForSitesSeconds
        if let s = self.stop {
            guard let metric = MetricTarget.Metric(rawValue: s.metric) else {
                throw bad("stop.metric", "'\(s.metric)' is not one of \(MetricTarget.Metric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            spec.stop = MetricTarget(metric: metric, value: s.value)
        }
        spec.evaluateEvery = self.evaluateEvery ?? spec.evaluateEvery
        if let p = self.personalization {
            let settings = CohortRuntime.Personalization(localLayers: p.localLayers ?? 0, fineTuneEpochs: p.fineTuneEpochs ?? 0)
            // Zeros mean no personalisation (the job is plain FedAvg, bit for bit); anything else is validated.
            spec.personalization = settings == CohortRuntime.Personalization() ? nil : settings
        }
        spec.testFraction = self.testFraction ?? spec.testFraction
        if let p = self.privacy {
            do {
                spec.privacy = try PrivacyOptionsParser.settings(
                    mode: p.mode, noiseMultiplier: p.noiseMultiplier, targetEpsilon: p.targetEpsilon, clip: p.clip,
                    delta: p.delta, adaptive: p.adaptiveClip.map {
                        AdaptiveClipping.Settings(targetQuantile: $0.targetQuantile ?? 0.5, learningRate: $0.learningRate ?? 0.2,
                                                  countNoiseStandardDeviation: $0.countNoiseStandardDeviation ?? 0)
                    }, secureAggregation: p.secureAggregation ?? false,
                    rounds: spec.rounds, fraction: spec.fraction, keyPrefix: "privacy.")
            } catch let e as PrivacyOptionsParser.Problem {
                throw bad(e.key, e.message)
            }
        }
        return spec
    }
}
