public import CohortCompression
public import CohortData
public import CohortModel
public import CohortPrivacy
public import CohortRuntime
public import CohortStrategy

// Conversions between the wire messages and Cohort's own types. The wire types stay inside this module and the
// coordinator and site modules; everything else works with the Swift types.

extension Cohort_V1_Metrics {
    public init(_ m: ClassificationMetrics) {
        self.init()
        self.count = UInt64(m.count)
        self.accuracy = m.accuracy
        self.balancedAccuracy = m.balancedAccuracy
        if let a = m.auc { self.auc = a }
        self.loss = m.logLoss
        self.f1 = m.f1
        self.brier = m.brier
    }

    public var metrics: ClassificationMetrics {
        ClassificationMetrics(count: Int(self.count), accuracy: self.accuracy, balancedAccuracy: self.balancedAccuracy,
                              auc: self.hasAuc ? self.auc : nil, logLoss: self.loss, f1: self.f1, brier: self.brier)
    }
}

extension Cohort_V1_EvaluationSummary {
    public init(_ s: EvaluationSummary) {
        self.init()
        self.classCount = UInt32(s.classCount)
        self.confusion = s.confusion.map { UInt64($0) }
        self.logLossSum = s.logLossSum
        self.brierSum = s.brierSum
        self.histograms = s.histograms.map { UInt64($0) }
    }

    /// The summary, checked for the shape a site must send.
    public func summary() throws(WireError) -> EvaluationSummary {
        let c = Int(self.classCount)
        guard c >= 2, c <= 10_000 else { throw WireError(.invalidMessage, "evaluation summary has \(c) classes") }
        var s = EvaluationSummary(classCount: c)
        guard self.confusion.count == s.confusion.count, self.histograms.count == s.histograms.count else {
            throw WireError(.invalidMessage, "evaluation summary has the wrong number of counts for \(c) classes")
        }
        guard self.logLossSum.isFinite, self.brierSum.isFinite else {
            throw WireError(.invalidMessage, "evaluation summary sums are not finite")
        }
        s.confusion = self.confusion.map { Int(clamping: $0) }
        s.histograms = self.histograms.map { Int(clamping: $0) }
        s.logLossSum = self.logLossSum
        s.brierSum = self.brierSum
        return s
    }
}

extension Cohort_V1_TrainingConfig {
    public init(_ t: TrainingConfig) {
        self.init()
        switch t.budget {
        case .epochs(let e): self.epochs = UInt32(e)
        case .steps(let s): self.steps = UInt32(s)
        }
        self.batchSize = UInt32(t.batchSize)
        var o = Cohort_V1_Optimizer()
        switch t.optimizer {
        case .sgd(let lr, let m, let wd, let nesterov):
            o.kind = "sgd"
            o.learningRate = lr
            o.momentum = m
            o.weightDecay = wd
            o.nesterov = nesterov
        case .adam(let lr, let b1, let b2, let eps, let wd, let decoupled):
            o.kind = "adam"
            o.learningRate = lr
            o.beta1 = b1
            o.beta2 = b2
            o.epsilon = eps
            o.weightDecay = wd
            o.decoupledWeightDecay = decoupled
        }
        self.optimizer = o
        self.l2 = t.loss.l2
        self.classWeights = t.loss.classWeights ?? []
        self.proximalMu = t.proximalMu
        if let p = t.examplePrivacy {
            var e = Cohort_V1_ExamplePrivacy()
            e.noiseMultiplier = p.noiseMultiplier
            e.clip = p.clip
            self.examplePrivacy = e
        }
    }

    public func trainingConfig() throws(WireError) -> TrainingConfig {
        let budget: TrainingBudget
        switch self.budget {
        case .epochs(let e)?: budget = .epochs(Int(e))
        case .steps(let s)?: budget = .steps(Int(s))
        case nil: throw WireError(.invalidMessage, "training config has no budget (epochs or steps)")
        }
        let o = self.optimizer
        let optimizer: OptimizerSpec
        switch o.kind {
        case "sgd": optimizer = .sgd(learningRate: o.learningRate, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov)
        case "adam":
            optimizer = .adam(learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon,
                              weightDecay: o.weightDecay, decoupledWeightDecay: o.decoupledWeightDecay)
        default: throw WireError(.invalidMessage, "unknown optimizer '\(o.kind)'")
        }
        guard self.batchSize > 0 else { throw WireError(.invalidMessage, "batch size must be positive") }
        var examplePrivacy: ExampleLevelPrivacy?
        if self.hasExamplePrivacy {
            let e = self.examplePrivacy
            guard e.noiseMultiplier.isFinite, e.noiseMultiplier > 0, e.clip.isFinite, e.clip > 0 else {
                throw WireError(.invalidMessage, "local DP-SGD needs a positive noise multiplier and clip norm")
            }
            examplePrivacy = ExampleLevelPrivacy(noiseMultiplier: e.noiseMultiplier, clip: e.clip)
        }
        return TrainingConfig(budget: budget, batchSize: Int(self.batchSize), optimizer: optimizer,
                              loss: LossConfig(classWeights: self.classWeights.isEmpty ? nil : self.classWeights, l2: self.l2),
                              proximalMu: self.proximalMu, examplePrivacy: examplePrivacy)
    }
}

extension Cohort_V1_JobSpec {
    public init(_ j: JobSpec) {
        self.init()
        self.name = j.name
        self.sites = j.sites
        self.minSites = UInt32(j.minimumSites)
        var m = Cohort_V1_ModelConfig()
        m.kind = j.model.rawValue
        m.hidden = j.hidden.map { UInt32($0) }
        m.activation = j.activation.rawValue
        self.model = m
        self.schemaYaml = j.schemaYAML
        self.label = j.label ?? ""
        self.standardize = j.standardize.rawValue
        self.strategy = Cohort_V1_StrategyConfig(j.strategy)
        if let p = j.privacy { self.privacy = Cohort_V1_PrivacyConfig(p) }
        self.selection = j.selection.rawValue
        self.compression = j.compression?.description ?? ""
        self.rounds = UInt32(j.rounds)
        self.fraction = j.fraction
        self.training = Cohort_V1_TrainingConfig(j.training)
        self.seed = j.seed
        self.roundTimeoutSeconds = UInt32(j.roundTimeoutSeconds)
        if let stop = j.stop {
            var c = Cohort_V1_StopCondition()
            c.metric = stop.metric.rawValue
            c.value = stop.value
            self.stop = c
        }
        self.evaluateEvery = UInt32(max(0, j.evaluateEvery))
        self.noEvaluation = j.evaluateEvery == 0
        self.testFraction = j.testFraction
        self.waitForSitesSeconds = UInt32(j.waitForSitesSeconds)
    }

    /// The job, checked as far as a message can be.
    public func jobSpec() throws(WireError) -> JobSpec {
        guard let kind = ModelSpec.Kind(rawValue: self.model.kind) else {
            throw WireError(.invalidMessage, "unknown model kind '\(self.model.kind)'")
        }
        guard let activation = ModelSpec.Activation(rawValue: self.model.activation.isEmpty ? "relu" : self.model.activation) else {
            throw WireError(.invalidMessage, "unknown activation '\(self.model.activation)'")
        }
        guard let standardize = StandardizeMode(rawValue: self.standardize.isEmpty ? "per-site" : self.standardize) else {
            throw WireError(.invalidMessage, "unknown standardisation '\(self.standardize)'")
        }
        let strategy = try self.strategy.strategySpec()
        let privacy = self.hasPrivacy ? try self.privacy.privacySettings() : nil
        guard let selection = SelectionPolicy(rawValue: self.selection.isEmpty ? "uniform" : self.selection) else {
            throw WireError(.invalidMessage, "unknown selection policy '\(self.selection)'")
        }
        let compression = try Self.codec(self.compression)
        var stop: MetricTarget?
        if self.hasStop && !self.stop.metric.isEmpty {
            guard let metric = MetricTarget.Metric(rawValue: self.stop.metric) else {
                throw WireError(.invalidMessage, "unknown stop metric '\(self.stop.metric)'")
            }
            stop = MetricTarget(metric: metric, value: self.stop.value)
        }
        var spec = JobSpec(
            name: self.name, sites: self.sites, minimumSites: Int(self.minSites), model: kind, hidden: self.model.hidden.map { Int($0) },
            activation: activation, schemaYAML: self.schemaYaml, label: self.label.isEmpty ? nil : self.label,
            standardize: standardize, strategy: strategy, rounds: Int(self.rounds), fraction: self.fraction,
            training: try self.training.trainingConfig(), seed: self.seed, roundTimeoutSeconds: Int(self.roundTimeoutSeconds),
            stop: stop, evaluateEvery: self.noEvaluation ? 0 : Int(max(1, self.evaluateEvery)), testFraction: self.testFraction,
            waitForSitesSeconds: Int(self.waitForSitesSeconds), privacy: privacy)
        spec.selection = selection
        spec.compression = compression
        return spec
    }

    /// A codec spec from the wire (empty: none).
    static func codec(_ text: String) throws(WireError) -> CodecSpec? {
        guard !text.isEmpty else { return nil }
        do { return try CodecSpec(parsing: text) } catch {
            throw WireError(.invalidMessage, "unknown update compression '\(text)': \(error)")
        }
    }
}

extension Cohort_V1_StrategyConfig {
    public init(_ spec: StrategySpec) {
        self.init()
        self.name = spec.name
        switch spec {
        case .fedAvg(let lr), .scaffold(let lr): self.serverLearningRate = lr
        case .fedAvgM(let lr, let mom):
            self.serverLearningRate = lr
            self.momentum = mom
        case .fedProx(let mu): self.mu = mu
        case .cyclic: break
        case .fedOpt(_, let lr, let b1, let b2, let tau):
            self.serverLearningRate = lr
            self.beta1 = b1
            self.beta2 = b2
            self.tau = tau
        }
    }

    /// The strategy; unset (zero) parameters take their defaults.
    public func strategySpec() throws(WireError) -> StrategySpec {
        func given(_ x: Float) -> Float? { x == 0 ? nil : x }
        for (field, x) in [("server_learning_rate", self.serverLearningRate), ("momentum", self.momentum), ("mu", self.mu),
                           ("beta1", self.beta1), ("beta2", self.beta2), ("tau", self.tau)] where !x.isFinite || x < 0 {
            throw WireError(.invalidMessage, "strategy \(field) \(x) must be finite and not negative")
        }
        guard let spec = StrategySpec(name: self.name, serverLearningRate: given(self.serverLearningRate),
                                      momentum: self.name == "fedavgm" ? self.momentum : nil, mu: given(self.mu),
                                      beta1: given(self.beta1), beta2: given(self.beta2), tau: given(self.tau)) else {
            throw WireError(.invalidMessage, "unknown strategy '\(self.name)'")
        }
        return spec
    }
}

extension Cohort_V1_PrivacyConfig {
    public init(_ p: PrivacySettings) {
        self.init()
        self.mode = p.modeName
        self.noiseMultiplier = p.configuration.noiseMultiplier
        self.clip = p.configuration.clip
        self.delta = p.delta
        self.secureAggregation = p.secureAggregation
        if case .central(_, _, let a?) = p.configuration.mode {
            var c = Cohort_V1_AdaptiveClip()
            c.targetQuantile = a.targetQuantile
            c.learningRate = a.learningRate
            c.countNoiseStddev = a.countNoiseStandardDeviation
            self.adaptive = c
        }
    }

    /// The privacy settings, checked.
    public func privacySettings() throws(WireError) -> PrivacySettings {
        let configuration: DPConfiguration
        switch self.mode {
        case "central":
            let adaptive = self.hasAdaptive
                ? AdaptiveClipping.Settings(targetQuantile: self.adaptive.targetQuantile, learningRate: self.adaptive.learningRate,
                                            countNoiseStandardDeviation: self.adaptive.countNoiseStddev)
                : nil
            configuration = .central(noiseMultiplier: self.noiseMultiplier, clip: self.clip, adaptive: adaptive)
        case "distributed": configuration = .distributed(noiseMultiplier: self.noiseMultiplier, clip: self.clip)
        case "local": configuration = .local(noiseMultiplier: self.noiseMultiplier, clip: self.clip)
        default: throw WireError(.invalidMessage, "unknown privacy mode '\(self.mode)' (central, distributed or local)")
        }
        let settings = PrivacySettings(configuration: configuration, delta: self.delta, secureAggregation: self.secureAggregation)
        do { try settings.validate() } catch { throw WireError(.invalidMessage, "privacy: \(error)") }
        return settings
    }
}

extension Cohort_V1_TrainInstructions {
    public init(_ i: TrainInstructions) {
        self.init()
        self.round = UInt32(i.round)
        self.training = Cohort_V1_TrainingConfig(i.training)
        self.seed = i.seed
        self.compression = i.compression?.description ?? ""
        if let p = i.updatePrivacy {
            var u = Cohort_V1_UpdatePrivacy()
            u.clip = p.clip
            u.noiseStddev = p.noiseStandardDeviation
            self.updatePrivacy = u
        }
    }

    /// The instructions (the server control variate travels separately), checked.
    public func trainInstructions() throws(WireError) -> TrainInstructions {
        var i = TrainInstructions(round: Int(self.round), training: try self.training.trainingConfig(), seed: self.seed)
        i.compression = try Cohort_V1_JobSpec.codec(self.compression)
        if self.hasUpdatePrivacy {
            let u = self.updatePrivacy
            guard u.clip.isFinite, u.clip > 0, u.noiseStddev.isFinite, u.noiseStddev >= 0 else {
                throw WireError(.invalidMessage, "update privacy needs a positive clip norm and a non-negative noise level")
            }
            i.updatePrivacy = UpdatePrivacy(clip: u.clip, noiseStandardDeviation: u.noiseStddev)
        }
        return i
    }
}

extension Cohort_V1_Failure {
    public init(site: String, code: String, message: String) {
        self.init()
        self.site = site
        self.code = code
        self.message = message
    }
}

extension Cohort_V1_Receipt {
    public static let accepted: Cohort_V1_Receipt = {
        var r = Cohort_V1_Receipt()
        r.accepted = true
        r.code = "accepted"
        return r
    }()

    public static func refused(_ code: String, _ message: String) -> Cohort_V1_Receipt {
        var r = Cohort_V1_Receipt()
        r.accepted = false
        r.code = code
        r.message = message
        return r
    }
}
