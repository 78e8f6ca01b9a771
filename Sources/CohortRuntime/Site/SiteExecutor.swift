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
    /// returns the site's new control variate (the caller keeps it at the site for the next round).
    ///
    /// - Parameter siteControl: The site's control variate `c_i` from its previous round (nil: zeros).
    public func train(global: ModelParameters, instructions: TrainInstructions, siteControl: [Float]?) throws(SiteFailure)
        -> (update: SiteUpdate, siteControl: [Float]?)
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
        var local = global
        var rng = Self.trainingRandomness(seed: instructions.seed, site: self.name, round: instructions.round)
        let summary: TrainingSummary
        switch self.noise {
        case .secure:
            var noise = SecureGaussianSource()
            summary = Trainer.train(self.network, parameters: &local, on: self.trainingData, config: instructions.training,
                                    rng: &rng, noise: &noise, anchor: global, correction: correction)
        case .seeded:
            var noise = RandomSource(seed: instructions.seed).derived("noise", self.name, String(instructions.round))
            summary = Trainer.train(self.network, parameters: &local, on: self.trainingData, config: instructions.training,
                                    rng: &rng, noise: &noise, anchor: global, correction: correction)
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
        // The delta is computed in place: a site holds the global model and one working copy, not three models.
        local.flat.addScaled(global.flat, by: -1)
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
        }
        let update = SiteUpdate(site: self.name, round: instructions.round, delta: local.flat,
                                exampleCount: self.trainingData.count, training: summary, controlDelta: controlDelta)
        return (update, newControl)
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
