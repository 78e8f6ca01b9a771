import CohortTensor

/// The Laplace mechanism for counts and sums: adds noise with density `exp(−|x|/b) / (2b)`.
///
/// With `b = Δ₁ / ε`, where `Δ₁` bounds how much one record changes the released values in L1 norm, the release is
/// `(ε, 0)`-DP (Dwork, McSherry, Nissim and Smith, "Calibrating Noise to Sensitivity in Private Data Analysis",
/// 2006). A count has `Δ₁ = 1`. Noise is drawn by inverting the CDF: for `u` uniform in (0, 1),
/// `x = b·log(2u)` if `u < ½`, else `x = −b·log(2(1 − u))`.
public struct LaplaceMechanism: Sendable, Hashable {
    /// The scale `b`; the noise variance is `2b²`.
    public var scale: Double

    /// A mechanism with scale `scale` (finite, `≥ 0`; a precondition).
    public init(scale: Double) {
        precondition(scale.isFinite && scale >= 0, "Laplace scale \(scale) must be finite and non-negative")
        self.scale = scale
    }

    /// An `(epsilon, 0)`-DP mechanism for values of L1 sensitivity `l1Sensitivity`: `b = Δ₁ / ε`.
    ///
    /// - Throws: ``PrivacyError`` `.invalidArgument` unless `epsilon > 0` and `l1Sensitivity ≥ 0`, both finite.
    public init(epsilon: Double, l1Sensitivity: Double = 1) throws(PrivacyError) {
        try PrivacyError.checkEpsilon(epsilon)
        guard l1Sensitivity.isFinite, l1Sensitivity >= 0 else {
            throw PrivacyError(.invalidArgument, "L1 sensitivity \(l1Sensitivity) must be finite and non-negative",
                               hint: "a count has sensitivity 1; a sum of values clamped to [0, B] has sensitivity B")
        }
        self.scale = l1Sensitivity / epsilon
    }

    /// One draw of the noise.
    @inlinable
    public func sample(using noise: inout some NoiseSource) -> Double {
        let u = noise.uniform()
        return u < 0.5 ? self.scale * Math.log(2 * u) : -self.scale * Math.log(2 * (1 - u))
    }

    /// A noisy count (not rounded or clamped: post-processing such as `max(0, rounded)` stays private).
    @inlinable
    public func noisedCount(_ count: Int, using noise: inout some NoiseSource) -> Double {
        Double(count) + self.sample(using: &noise)
    }

    /// A noisy sum.
    @inlinable
    public func noisedSum(_ sum: Double, using noise: inout some NoiseSource) -> Double {
        sum + self.sample(using: &noise)
    }

    /// Adds independent noise to every element (for a histogram, where one record changes one bin by 1, `Δ₁ = 1`).
    @inlinable
    public func addNoise(to values: inout [Double], using noise: inout some NoiseSource) {
        for i in values.indices { values[i] += self.sample(using: &noise) }
    }
}
