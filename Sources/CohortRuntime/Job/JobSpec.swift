public import CohortCompression
public import CohortData
public import CohortModel
public import CohortStrategy

/// A federated training job: what to train, on which sites, how, and when to stop.
///
/// Admins write it as `job.yaml` (see ``JobFile``); the coordinator stores it and sends it to sites, which check it
/// against their policy and validate their data against its schema before accepting any work.
public struct JobSpec: Sendable, Hashable, Codable {
    public var name: String
    /// Named sites; empty means any connected site.
    public var sites: [String]
    /// Sites that must take part, and answer in every round.
    public var minimumSites: Int
    public var model: ModelSpec.Kind
    public var hidden: [Int]
    public var activation: ModelSpec.Activation
    /// The dataset schema (YAML text) every site validates its data against.
    public var schemaYAML: String
    public var label: String?
    public var standardize: StandardizeMode
    public var strategy: StrategySpec
    public var rounds: Int
    public var fraction: Double
    public var training: TrainingConfig
    public var seed: UInt64
    public var roundTimeoutSeconds: Int
    public var stop: MetricTarget?
    public var evaluateEvery: Int
    /// Fraction of a site's rows held out for testing when it has no test file.
    public var testFraction: Double
    /// How long to wait for enough sites to connect before the job fails.
    public var waitForSitesSeconds: Int
    /// Differential privacy (nil: none). Sites with a privacy budget refuse jobs without it.
    public var privacy: PrivacySettings?
    /// How each round's participants are chosen.
    public var selection: SelectionPolicy = .uniform
    /// How sites encode their updates (nil: dense Float32).
    public var compression: CodecSpec?
    /// Asynchronous training (nil: synchronous rounds). `rounds` then counts model versions.
    public var asynchronous: AsyncJobSettings?
    /// Personal layers and local fine-tuning (nil: none; simulation only for now, see `docs/personalization.md`).
    public var personalization: Personalization?

    public init(
        name: String, sites: [String] = [], minimumSites: Int = 1, model: ModelSpec.Kind = .mlp, hidden: [Int] = [64, 32],
        activation: ModelSpec.Activation = .relu, schemaYAML: String, label: String? = nil,
        standardize: StandardizeMode = .perSite, strategy: StrategySpec = .fedAvg(), rounds: Int = 20, fraction: Double = 1,
        training: TrainingConfig = TrainingConfig(budget: .epochs(1), batchSize: 32, optimizer: .sgd(learningRate: 0.1)),
        seed: UInt64 = 42, roundTimeoutSeconds: Int = 600, stop: MetricTarget? = nil, evaluateEvery: Int = 1,
        testFraction: Double = 0.25, waitForSitesSeconds: Int = 300, privacy: PrivacySettings? = nil
    ) {
        self.privacy = privacy
        self.name = name
        self.sites = sites
        self.minimumSites = minimumSites
        self.model = model
        self.hidden = model == .mlp ? hidden : []
        self.activation = activation
        self.schemaYAML = schemaYAML
        self.label = label
        self.standardize = standardize
        self.strategy = strategy
        self.rounds = rounds
        self.fraction = fraction
        self.training = training
        self.seed = seed
        self.roundTimeoutSeconds = roundTimeoutSeconds
        self.stop = stop
        self.evaluateEvery = evaluateEvery
        self.testFraction = testFraction
        self.waitForSitesSeconds = waitForSitesSeconds
    }

    /// The job's dataset schema, with the label override applied.
    public func schema(source: String = "job schema") throws(DataError) -> DatasetSchema {
        var s = try DatasetSchema.parse(yaml: self.schemaYAML, source: source)
        if let label = self.label, s.labelColumn?.name != label {
            try s.setLabel(label)
            try s.validate(source: source)
        }
        return s
    }

    /// The model this job trains, given its schema (the input width follows from the schema alone).
    public func modelSpec() throws -> ModelSpec {
        let schema = try self.schema()
        let encoder = FeatureEncoder(schema: schema, statistics: TableStatistics(emptyFor: schema), standardize: false)
        let spec = ModelSpec(kind: self.model, inputCount: encoder.featureCount, classCount: encoder.classCount,
                             hidden: self.hidden, activation: self.activation)
        try spec.validate()
        return spec
    }

    /// Round-loop settings.
    public var runSettings: RunSettings {
        RunSettings(rounds: self.rounds, fraction: self.fraction, minimumSites: self.minimumSites, training: self.training,
                    seed: self.seed, evaluateEvery: self.evaluateEvery, target: self.stop, privacy: self.privacy,
                    selection: self.selection, compression: self.compression, personalization: self.personalization)
            .applying(self.strategy)
    }

    /// The equivalent in-process simulation settings (same seed: same model bits).
    public var simulationConfig: SimulationConfig {
        var c = SimulationConfig(model: self.model, hidden: self.hidden, activation: self.activation, strategy: self.strategy,
                                 settings: self.runSettings, standardize: self.standardize, baselines: false)
        // As the coordinator does: distributed DP sizes each site's noise share for the job's minimum of sites.
        c.noiseSites = self.minimumSites
        return c
    }

    /// The initial global model: a function of the seed and the model only.
    public func initialModel() throws -> ModelParameters {
        let network = try DenseNetwork(try self.modelSpec())
        var rng = Simulation.initialModelRandomness(seed: self.seed)
        return network.initialParameters(rng: &rng)
    }

    /// Checks everything a coordinator can check without data.
    public func validate() throws {
        func bad(_ key: String, _ message: String) -> JobSpecError { JobSpecError(key: key, message: message) }
        guard !self.name.isEmpty else { throw bad("name", "the job needs a name") }
        guard self.rounds > 0 else { throw bad("rounds", "must be positive") }
        guard self.minimumSites >= 1 else { throw bad("min_sites", "must be at least 1") }
        if !self.sites.isEmpty && self.sites.count < self.minimumSites {
            throw bad("min_sites", "is \(self.minimumSites) but only \(self.sites.count) sites are named")
        }
        guard self.fraction > 0 && self.fraction <= 1 else { throw bad("fraction", "must be in (0, 1]") }
        guard self.training.batchSize > 0 else { throw bad("training.batch_size", "must be positive") }
        guard self.training.optimizer.learningRate > 0 else { throw bad("training.learning_rate", "must be positive") }
        guard self.roundTimeoutSeconds > 0 else { throw bad("round_timeout_seconds", "must be positive") }
        guard (0..<1).contains(self.testFraction) else { throw bad("test_fraction", "must be in [0, 1)") }
        guard self.evaluateEvery >= 0 else { throw bad("evaluate_every", "must be 0 (never) or positive") }
        do throws(StrategySpecError) { try self.strategy.validate(siteCount: self.sites.isEmpty ? nil : self.sites.count) } catch {
            throw bad("strategy.\(error.key)", error.message)
        }
        if let p = self.privacy {
            do { try p.validate() } catch { throw bad("privacy", "\(error)") }
            if case .scaffold = self.strategy, p.configuration.isServerSide {
                throw bad("privacy.mode", "SCAFFOLD cannot be combined with central or distributed DP; use local DP or another strategy")
            }
            if self.strategy.needsIndividualUpdates, p.configuration.isServerSide || p.secureAggregation {
                throw bad("privacy.mode", "\(self.strategy.name) needs every site's update in the clear; it does not compose with central or distributed DP or secure aggregation (use local DP)")
            }
        }
        if let a = self.asynchronous {
            switch a.mode {
            case .fedBuff(let k, let lr):
                guard k >= 1 else { throw bad("async.buffer", "must be at least 1") }
                guard lr.isFinite && lr > 0 else { throw bad("async.server_learning_rate", "must be positive") }
            case .fedAsync(let alpha):
                guard alpha.isFinite && alpha > 0 && alpha <= 1 else { throw bad("async.alpha", "must be in (0, 1]") }
            }
            guard a.maxStaleness >= 0 else { throw bad("async.max_staleness", "cannot be negative") }
            guard case .fedAvg = self.strategy, self.privacy == nil, self.compression == nil, self.standardize != .global else {
                throw bad("async", "asynchronous training runs FedAvg-style updates without privacy, compression or global standardisation here; drop one of them")
            }
        }
        if let c = self.compression {
            do { try c.validate() } catch { throw bad("compression", "\(error)") }
            if self.privacy?.secureAggregation == true {
                throw bad("compression", "does not compose with secure aggregation (sites quantise on their own grids and send different entries); drop one of them")
            }
        }
        let spec: ModelSpec
        do { spec = try self.modelSpec() } catch let e as DataError {
            throw bad("schema", e.description)
        } catch let e as ModelError {
            throw bad("model", e.description)
        }
        if let p = self.personalization {
            do throws(PersonalizationError) { try p.validate(layerCount: spec.widths.count - 1, strategy: self.strategy) } catch {
                throw bad("personalization.\(error.field.rawValue)", error.message)
            }
            if self.asynchronous != nil {
                throw bad("personalization", "does not combine with asynchronous training yet (async: ...); drop one of them")
            }
        }
    }
}

/// A problem with a job definition, naming the key.
public struct JobSpecError: Error, Hashable, CustomStringConvertible {
    public var file: String?
    public var key: String
    public var message: String

    public init(file: String? = nil, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String { (self.file.map { "\($0): " } ?? "") + "\(self.key): \(self.message)" }
}

extension TableStatistics {
    /// Statistics of no rows (the encoder's layout depends on the schema only).
    public init(emptyFor schema: DatasetSchema) {
        self = TableStatistics(Table(schema: schema, source: "", columns: schema.columns.map { c in
            c.role == .id || c.role == .ignore ? .text([]) : (c.type == .numeric ? .numeric([]) : .categorical([]))
        }, lines: []))
    }
}

/// Asynchronous training of a job: sites train at their own pace; the coordinator applies updates as FedBuff or
/// FedAsync prescribe, weighting each by its staleness.
public struct AsyncJobSettings: Sendable, Hashable, Codable {
    public var mode: AsyncMode
    /// Updates computed from a model more than this many versions old are dropped.
    public var maxStaleness: Int

    public init(mode: AsyncMode, maxStaleness: Int = 10) {
        self.mode = mode
        self.maxStaleness = maxStaleness
    }
}
