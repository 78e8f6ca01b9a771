import CohortTensor

/// Adaptive clipping: a clip norm that tracks a quantile of the contributions' norms, learned privately.
///
/// From Andrew, Thakkar, McMahan and Ramaswamy, "Differentially Private Learning with Adaptive Clipping"
/// (NeurIPS 2021). Each round, each of `m` participants reports whether its update fitted, `bᵢ = 1[‖Δᵢ‖ ≤ C]`;
/// the server releases the noisy fraction `b̃ = (Σ bᵢ + N(0, σ_b²)) / m` and moves the clip norm geometrically:
///
///     C ← C · exp(−η (b̃ − γ))
///
/// When more than a fraction `γ` of updates fit, `C` shrinks, otherwise it grows, so it converges to the
/// `γ`-quantile of the norms. The paper recommends `γ = 0.5`, `η = 0.2` and `σ_b = m / 20`.
///
/// Releasing `b̃` is a second Gaussian query. With ``updateNoiseMultiplier(totalNoiseMultiplier:)``
/// for the update's noise, the two together cost exactly as much privacy as one Gaussian query at the total noise
/// multiplier `z`, which is what ``RDPAccountant`` should be given.
///
/// This is a pure value: ``update(unclippedCount:participants:using:)`` takes the (un-noised) count and a noise
/// source and changes only ``clipNorm``.
public struct AdaptiveClipping: Sendable, Hashable, Codable {
    /// The parameters that stay fixed over a job.
    public struct Settings: Sendable, Hashable, Codable {
        /// The target quantile `γ ∈ (0, 1)` of update norms.
        public var targetQuantile: Double
        /// The learning rate `η > 0` of the geometric update.
        public var learningRate: Double
        /// The standard deviation `σ_b ≥ 0` of the noise added to the count of unclipped updates.
        public var countNoiseStandardDeviation: Double

        public init(targetQuantile: Double = 0.5, learningRate: Double = 0.2, countNoiseStandardDeviation: Double) {
            self.targetQuantile = targetQuantile
            self.learningRate = learningRate
            self.countNoiseStandardDeviation = countNoiseStandardDeviation
        }

        /// Checks every parameter's domain.
        public func validate() throws(PrivacyError) {
            guard self.targetQuantile > 0, self.targetQuantile < 1 else {
                throw PrivacyError(.invalidArgument, "target quantile \(self.targetQuantile) is outside (0, 1)",
                                   hint: "0.5 clips to the median update norm")
            }
            guard self.learningRate.isFinite, self.learningRate > 0 else {
                throw PrivacyError(.invalidArgument, "learning rate \(self.learningRate) must be finite and positive",
                                   hint: "0.2 is the paper's default")
            }
            guard self.countNoiseStandardDeviation.isFinite, self.countNoiseStandardDeviation >= 0 else {
                throw PrivacyError(
                    .invalidArgument, "count noise \(self.countNoiseStandardDeviation) must be finite and non-negative",
                    hint: "the paper uses participants per round / 20")
            }
        }
    }

    /// The current clip norm `C`.
    public private(set) var clipNorm: Double
    /// The fixed parameters.
    public var settings: Settings

    /// Starts adaptive clipping at `initialClipNorm`.
    ///
    /// - Throws: ``PrivacyError`` `.invalidArgument` for a non-positive clip norm or invalid settings.
    public init(initialClipNorm: Double, settings: Settings) throws(PrivacyError) {
        guard initialClipNorm.isFinite, initialClipNorm > 0 else {
            throw PrivacyError(.invalidArgument, "initial clip norm \(initialClipNorm) must be finite and positive",
                               hint: "start near a typical update norm, e.g. 0.1 to 1")
        }
        try settings.validate()
        self.clipNorm = initialClipNorm
        self.settings = settings
    }

    /// Updates the clip norm from this round's count of updates with norm `≤` ``clipNorm``.
    ///
    /// - Parameters:
    ///   - unclippedCount: `Σ bᵢ`, in `0...participants` (a precondition).
    ///   - participants: `m > 0`.
    ///   - noise: the source of the count's Gaussian noise.
    /// - Returns: the released noisy fraction `b̃`.
    @discardableResult
    public mutating func update(unclippedCount: Int, participants: Int, using noise: inout some NoiseSource) -> Double {
        precondition(participants > 0, "adaptive clipping needs at least one participant")
        precondition((0...participants).contains(unclippedCount),
                     "unclipped count \(unclippedCount) is outside 0...\(participants)")
        let noisyCount = Double(unclippedCount) + self.settings.countNoiseStandardDeviation * noise.gaussian()
        let fraction = noisyCount / Double(participants)
        self.clipNorm *= Math.exp(-self.settings.learningRate * (fraction - self.settings.targetQuantile))
        return fraction
    }

    /// Updates the clip norm from this round's update norms (counts those `≤` ``clipNorm``).
    @discardableResult
    public mutating func update(norms: [Double], using noise: inout some NoiseSource) -> Double {
        let c = self.clipNorm
        let unclipped = norms.reduce(0) { $0 + ($1 <= c ? 1 : 0) }
        return self.update(unclippedCount: unclipped, participants: norms.count, using: &noise)
    }

    /// The noise multiplier for the update sum such that the update and the count together spend exactly as
    /// much as one Gaussian query at `totalNoiseMultiplier` `z` (the paper's Theorem 1):
    ///
    ///     z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2)
    ///
    /// The count query has sensitivity ½ once `bᵢ` is centred to `bᵢ − ½`, so its noise multiplier is `2σ_b`, and
    /// Gaussian queries compose like one query whose `z⁻²` is the sum of theirs.
    ///
    /// - Throws: ``PrivacyError`` `.invalidArgument` unless `2σ_b > z` (the count alone would spend the budget).
    public func updateNoiseMultiplier(totalNoiseMultiplier z: Double) throws(PrivacyError) -> Double {
        try PrivacyError.checkNoiseMultiplier(z, allowZero: false)
        let countMultiplier = 2 * self.settings.countNoiseStandardDeviation
        guard countMultiplier > z else {
            throw PrivacyError(
                .invalidArgument,
                "count noise σ_b = \(self.settings.countNoiseStandardDeviation) leaves no budget at noise "
                    + "multiplier \(z)",
                hint: "raise the count noise (2σ_b must exceed the noise multiplier) or lower the noise multiplier")
        }
        let remaining = 1 / (z * z) - 1 / (countMultiplier * countMultiplier)
        return 1 / remaining.squareRoot()
    }
}
