public import CohortModel
public import CohortStrategy

/// Personalisation of a federated run (see `docs/personalization.md`).
///
/// - **Personal layers** (FedPer, Arivazhagan et al. 2019, "Federated Learning with Personalization Layers"): the
///   last ``localLayers`` dense layers (weights and biases) are the site's own. Each site keeps its head across
///   rounds, trains body and head from its own head, and sends only the body's change; the head's entries of the
///   update are zeros, and the coordinator never changes the global model's head.
/// - **Fine-tuning** after federation: each site trains its personalised model (all layers) for ``fineTuneEpochs``
///   epochs on its own training data and evaluates it on its test data. The result never leaves the site; only its
///   metrics do.
public struct Personalization: Sendable, Hashable, Codable {
    /// Dense layers, counted from the output, that stay at each site (0: the whole model is shared).
    public var localLayers: Int
    /// Epochs of local fine-tuning after the last round (0: none).
    public var fineTuneEpochs: Int

    public init(localLayers: Int = 0, fineTuneEpochs: Int = 0) {
        self.localLayers = localLayers
        self.fineTuneEpochs = fineTuneEpochs
    }

    enum CodingKeys: String, CodingKey {
        case localLayers = "local_layers"
        case fineTuneEpochs = "fine_tune_epochs"
    }

    /// Whether anything is personalised.
    public var isActive: Bool { self.localLayers > 0 || self.fineTuneEpochs > 0 }

    /// The tensors that stay at each site, in layout order (empty without personal layers).
    public func personalTensors(in layout: ParameterLayout) -> [String] {
        layout.trailingLayerTensors(self.localLayers)
    }

    /// Checks the settings against the model and the strategy.
    ///
    /// Personal layers compose with every strategy except SCAFFOLD (its control variates cover the whole model),
    /// with secure aggregation (the head's entries are zeros in every masked sum) and with differential privacy (a
    /// site clips and noises the body only; the coordinator's noise never reaches the head).
    public func validate(layerCount: Int, strategy: StrategySpec) throws(PersonalizationError) {
        guard self.localLayers >= 0 else {
            throw PersonalizationError(field: .localLayers, message: "must be 0 (share the whole model) or positive, not \(self.localLayers)")
        }
        guard self.fineTuneEpochs >= 0 else {
            throw PersonalizationError(field: .fineTuneEpochs, message: "must be 0 (no fine-tuning) or positive, not \(self.fineTuneEpochs)")
        }
        if self.localLayers >= layerCount {
            let layers = layerCount == 1 ? "1 layer" : "\(layerCount) layers"
            throw PersonalizationError(
                field: .localLayers,
                message: "is \(self.localLayers) but the model has \(layers) and at least one must be shared; use at most \(layerCount - 1)"
                    + (layerCount == 1 ? " (a linear model has no body to share: use an mlp with hidden layers, or fine-tuning alone)" : ""))
        }
        if self.localLayers > 0, case .scaffold = strategy {
            throw PersonalizationError(
                field: .localLayers,
                message: "does not combine with SCAFFOLD (its control variates cover the whole model); use fedavg, fedavgm, fedprox or fedadam")
        }
    }
}

/// A personalisation setting that cannot work, naming the field.
public struct PersonalizationError: Error, Hashable, CustomStringConvertible {
    public enum Field: String, Sendable, Hashable {
        case localLayers = "local_layers"
        case fineTuneEpochs = "fine_tune_epochs"

        /// The matching `cohort simulate` option.
        public var option: String {
            switch self {
            case .localLayers: "--personal-layers"
            case .fineTuneEpochs: "--fine-tune-epochs"
            }
        }
    }

    public var field: Field
    public var message: String

    public init(field: Field, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "personalization.\(self.field.rawValue): \(self.message)" }
}

/// Global versus personalised models on each site's test data, after a run.
public struct PersonalizationResult: Sendable, Hashable, Codable {
    public var settings: Personalization
    /// The tensors each site kept (empty without personal layers).
    public var personalTensors: [String]
    /// The global model at every site: with personal layers the same federation without them (FedAvg's shared
    /// model), otherwise the federated model itself.
    public var global: EvaluationAggregate
    /// The global body with each site's own head (nil without personal layers).
    public var personalHead: EvaluationAggregate?
    /// Each site's personalised model after local fine-tuning (nil without fine-tuning).
    public var fineTuned: EvaluationAggregate?

    public init(settings: Personalization, personalTensors: [String], global: EvaluationAggregate,
                personalHead: EvaluationAggregate?, fineTuned: EvaluationAggregate?) {
        self.settings = settings
        self.personalTensors = personalTensors
        self.global = global
        self.personalHead = personalHead
        self.fineTuned = fineTuned
    }

    enum CodingKeys: String, CodingKey {
        case settings, global
        case personalTensors = "personal_tensors"
        case personalHead = "personal_head"
        case fineTuned = "fine_tuned"
    }

    /// The sites' final personalised models: fine-tuned when asked, else the personal heads.
    public var personalized: EvaluationAggregate { self.fineTuned ?? self.personalHead ?? self.global }

    /// The models compared, in order: the global one, then the personal heads and the fine-tuned models when present.
    public var models: [(name: String, evaluation: EvaluationAggregate)] {
        [("global", self.global), ("personal head", self.personalHead), ("fine-tuned", self.fineTuned)].compactMap { name, e in
            e.map { (name, $0) }
        }
    }

    /// What the personalised models are, in words.
    public var personalizedName: String {
        switch (self.personalHead != nil, self.fineTuned != nil) {
        case (true, true): "personal head + fine-tuned"
        case (true, false): "personal head"
        case (false, true): "fine-tuned"
        case (false, false): "global"
        }
    }

    /// Mean over sites of personalised minus global AUC, over the sites where both are defined (nil: none).
    public var meanAUCImprovement: Double? { self.meanGain(\.auc) }

    /// Mean over sites of personalised minus global accuracy, over the sites with test data (nil: none).
    public var meanAccuracyImprovement: Double? { self.meanGain(\.accuracy) }

    /// Sites whose personalised accuracy beats the global model's.
    public var sitesImproved: Int { self.gains(\.accuracy).filter { $0 > 0 }.count }

    /// Sites whose accuracy both models define (sites with test data).
    public var sitesCompared: Int { self.gains(\.accuracy).count }

    /// The unweighted mean of a metric over the sites where it is finite (sites without test data or, for AUC, with
    /// one class only are left out; nil: none).
    public static func siteMean(_ e: EvaluationAggregate, _ metric: (ClassificationMetrics) -> Double?) -> Double? {
        let values = e.sites.keys.sorted().compactMap { e.sites[$0].flatMap(metric) }.filter(\.isFinite)
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Personalised minus global per site, in site-name order, where both are finite.
    func gains(_ metric: (ClassificationMetrics) -> Double?) -> [Double] {
        self.global.sites.keys.sorted().compactMap { site in
            guard let g = self.global.sites[site].flatMap(metric), let p = self.personalized.sites[site].flatMap(metric),
                  g.isFinite, p.isFinite else { return nil }
            return p - g
        }
    }

    func meanGain(_ metric: (ClassificationMetrics) -> Double?) -> Double? {
        let gains = self.gains(metric)
        return gains.isEmpty ? nil : gains.reduce(0, +) / Double(gains.count)
    }
}
