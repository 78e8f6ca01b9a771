public import CohortModel
public import CohortStrategy
public import CohortTensor
import CohortPrivacy

/// Runs tasks on one site's local data: local training from a global model, and evaluation.
///
/// The executor is the only code that touches a site's examples. What it returns (``SiteUpdate``,
/// ``SiteEvaluation``) is all that ever leaves the site. The same executor runs in simulation and in the site agent.
public struct SiteExecutor: Sendable {
    /// Where privacy noise comes from.
    public enum NoiseMode: Sendable, Hashable {
        /// The operating system's CSPRNG: what a real site uses.
        case secure
        /// Derived from the job seed, the site and the round: reproducible runs for simulation and tests (such
        /// noise protects nothing, since its seed is known).
        case seeded
    }

    public let name: String
    public let network: DenseNetwork
    public let trainingData: ExampleSet
    public let testData: ExampleSet
    public let noise: NoiseMode

    public init(name: String, network: DenseNetwork, train: ExampleSet, test: ExampleSet, noise: NoiseMode = .seeded) {
        self.name = name
        self.network = network
        self.trainingData = train
        self.testData = test
        self.noise = noise
    }

    /// The site's randomness for a round: derived from the job seed, the site name and the round only.
    public static func trainingRandomness(seed: UInt64, site: String, round: Int) -> RandomSource {
        RandomSource(seed: seed).derived("train", site, String(round))
    }

    /// Trains locally from `global` and returns the change.
    public func train(global: ModelParameters, instructions: TrainInstructions) throws(SiteFailure) -> SiteUpdate {
        try self.train(global: global, instructions: instructions, siteControl: nil).update
    }

    /// Trains locally from `global`; with SCAFFOLD instructions also corrects every gradient by `c - c_i` and
    /// returns the site's new control variate (the caller keeps it at the site for the next round). With personal
    /// tensors (``TrainInstructions/personalTensors``) it trains from the site's own head instead of the global one,
    /// returns the trained head for the caller to keep, and sends zeros in the head's place.
    ///
    /// - Parameters:
    ///   - siteControl: The site's control variate `c_i` from its previous round (nil: zeros).
    ///   - personalHead: The site's personal tensors from its previous round, concatenated in layout order (nil:
    ///     none yet, start from the global model's).
    public func train(global: ModelParameters, instructions: TrainInstructions, siteControl: [Float]?, personalHead: [Float]? = nil)
        throws(SiteFailure) -> (update: SiteUpdate, siteControl: [Float]?, personalHead: [Float]?)
    {
        guard global.layout == self.network.layout else {
            throw SiteFailure(site: self.name, code: .failed,
                              message: "the global model does not match this site's model layout")
        }
        guard !self.trainingData.isEmpty else {
            throw SiteFailure(site: self.name, code: .failed, message: "the site has no training examples")
        }
        var correction: [Float]?
        var ci: [Float] = []
        if let c = instructions.serverControl {
            guard c.count == global.count else {
                throw SiteFailure(site: self.name, code: .failed, message: "the server control variate does not match the model")
            }
            guard case .sgd = instructions.training.optimizer else {
                throw SiteFailure(site: self.name, code: .failed, message: "SCAFFOLD needs plain SGD local training (option II assumes it)")
            }
            ci = siteControl ?? [Float](repeating: 0, count: global.count)
            correction = ScaffoldSite.correction(server: c, site: ci)
        }
        let head = try self.personalRanges(instructions.personalTensors, in: global.layout)
        if !head.isEmpty, instructions.serverControl != nil {
            throw SiteFailure(site: self.name, code: .failed, message: "personal layers do not combine with SCAFFOLD's control variates")
        }
        // With personal layers the site starts from the global body and its own head; FedProx anchors there too.
        let start = try self.personalized(global, head: personalHead, ranges: head)
        var local = start
        var rng = Self.trainingRandomness(seed: instructions.seed, site: self.name, round: instructions.round)
        let summary: TrainingSummary
        switch self.noise {
        case .secure:
            var noise = SecureGaussianSource()
            summary = Trainer.train(self.network, parameters: &local, on: self.trainingData, config: instructions.training,
                                    rng: &rng, noise: &noise, anchor: start, correction: correction)
        case .seeded:
            var noise = RandomSource(seed: instructions.seed).derived("noise", self.name, String(instructions.round))
            summary = Trainer.train(self.network, parameters: &local, on: self.trainingData, config: instructions.training,
                                    rng: &rng, noise: &noise, anchor: start, correction: correction)
        }
        guard local.flat.allFinite else {
            throw SiteFailure(site: self.name, code: .failed,
                              message: "local training diverged (non-finite parameters); lower the learning rate")
        }
        var newControl: [Float]?
        var controlDelta: [Float]?
        if let c = instructions.serverControl {
            let r = ScaffoldSite.update(global: global.flat, local: local.flat, steps: summary.steps,
                                        learningRate: instructions.training.optimizer.learningRate, server: c, site: ci)
            newControl = r.newControl
            controlDelta = r.controlDelta
        }
        let newHead = head.isEmpty ? nil : local.values(in: head)
        // The delta is computed in place: a site holds the global model and one working copy, not three models.
        local.flat.addScaled(global.flat, by: -1)
        Self.zero(head, in: &local.flat)
        if let privacy = instructions.updatePrivacy {
            // Distributed DP, applied before the update leaves the site: clip, then this site's share of the noise.
            _ = L2Clipping.clip(&local.flat, to: Float(privacy.clip))
            switch self.noise {
            case .secure:
                var source = SecureGaussianSource()
                local.flat.addGaussianNoise(standardDeviation: privacy.noiseStandardDeviation, from: &source)
            case .seeded:
                var source = RandomSource(seed: instructions.seed).derived("update-noise", self.name, String(instructions.round))
                local.flat.addGaussianNoise(standardDeviation: privacy.noiseStandardDeviation, from: &source)
            }
            // The noise protects the body; the head's entries stay exactly zero.
            Self.zero(head, in: &local.flat)
        }
        let update = SiteUpdate(site: self.name, round: instructions.round, delta: local.flat,
                                exampleCount: self.trainingData.count, training: summary, controlDelta: controlDelta)
        return (update, newControl, newHead)
    }

    /// The flat ranges of a round's personal tensors (empty when none).
    func personalRanges(_ names: [String]?, in layout: ParameterLayout) throws(SiteFailure) -> [Range<Int>] {
        guard let names, !names.isEmpty else { return [] }
        guard let ranges = layout.ranges(of: names) else {
            throw SiteFailure(site: self.name, code: .failed,
                              message: "the personal tensors \(names.joined(separator: ", ")) are not all in this site's model")
        }
        return ranges
    }

    /// `global` with the site's own head in `ranges` (unchanged when the site has no head yet).
    func personalized(_ global: ModelParameters, head: [Float]?, ranges: [Range<Int>]) throws(SiteFailure) -> ModelParameters {
        guard let head, !ranges.isEmpty else { return global }
        guard head.count == ranges.reduce(0, { $0 + $1.count }) else {
            throw SiteFailure(site: self.name, code: .failed, message: "the site's stored personal layers do not match the model (\(head.count) values)")
        }
        var model = global
        model.replaceValues(in: ranges, with: head)
        return model
    }

    static func zero(_ ranges: [Range<Int>], in values: inout [Float]) {
        for r in ranges { values.replaceSubrange(r, with: repeatElement(0, count: r.count)) }
    }

    /// The site's personalised model: `global` with the site's own values of `personalTensors` (`global` itself
    /// without personal tensors or before the site kept a head).
    public func personalized(_ global: ModelParameters, personalTensors: [String], head: [Float]?) throws(SiteFailure) -> ModelParameters {
        try self.personalized(global, head: head, ranges: try self.personalRanges(personalTensors, in: global.layout))
    }

    /// The randomness of a site's fine-tuning: the job seed and the site name only.
    public static func fineTuningRandomness(seed: UInt64, site: String) -> RandomSource {
        RandomSource(seed: seed).derived("fine-tune", site)
    }

    /// Local fine-tuning after federation: trains every layer of `model` for `epochs` epochs on the site's
    /// training data with the run's optimiser, batch size and loss (no proximal term, no DP-SGD: the result never
    /// leaves the site).
    public func fineTune(_ model: ModelParameters, epochs: Int, training: TrainingConfig, seed: UInt64) -> ModelParameters {
        var config = training
        config.budget = .epochs(epochs)
        config.proximalMu = 0
        config.examplePrivacy = nil
        var tuned = model
        var rng = Self.fineTuningRandomness(seed: seed, site: self.name)
        Trainer.train(self.network, parameters: &tuned, on: self.trainingData, config: config, rng: &rng)
        return tuned
    }

    /// Evaluates a model on the site's test data.
    public func evaluate(_ model: ModelParameters) -> SiteEvaluation {
        Self.evaluate(self.network, model, on: self.testData, site: self.name)
    }

    /// Evaluates a model on examples.
    public static func evaluate(_ network: DenseNetwork, _ model: ModelParameters, on data: ExampleSet, site: String) -> SiteEvaluation {
        let probs = network.predictProbabilities(model, features: data.features, count: data.count)
        return SiteEvaluation(
            site: site,
            metrics: ClassificationMetrics.compute(probabilities: probs, labels: data.labels, classCount: data.classCount),
            summary: EvaluationSummary(probabilities: probs, labels: data.labels, classCount: data.classCount))
    }
}
