/// The Gaussian mechanism: adds independent N(0, σ²) noise to every coordinate.
///
/// With `σ = z · C`, where `C` bounds the L2 norm of one record's (or one site's) contribution, each release has
/// noise multiplier `z`; ``RDPAccountant`` turns that into `(ε, δ)`. Noise is computed and added in Float64 and the
/// sum rounded once to Float32, so small noise is not lost to Float32 rounding of intermediate values.
public struct GaussianMechanism: Sendable, Hashable {
    /// The noise standard deviation `σ` (absolute, in the units of the values).
    public var standardDeviation: Double

    /// A mechanism with noise standard deviation `standardDeviation` (finite, `≥ 0`; a precondition).
    public init(standardDeviation: Double) {
        precondition(standardDeviation.isFinite && standardDeviation >= 0,
                     "Gaussian noise standard deviation \(standardDeviation) must be finite and non-negative")
        self.standardDeviation = standardDeviation
    }

    /// A mechanism for values of L2 sensitivity `l2Sensitivity` (the clip norm `C`) at noise multiplier `z`:
    /// `σ = z · C`.
    ///
    /// - Throws: ``PrivacyError`` `.invalidArgument` unless both are finite and non-negative.
    public init(noiseMultiplier: Double, l2Sensitivity: Double) throws(PrivacyError) {
        try PrivacyError.checkNoiseMultiplier(noiseMultiplier)
        guard l2Sensitivity.isFinite, l2Sensitivity >= 0 else {
            throw PrivacyError(.invalidArgument, "L2 sensitivity \(l2Sensitivity) must be finite and non-negative",
                               hint: "pass the clip norm that bounds one contribution's L2 norm")
        }
        self.standardDeviation = noiseMultiplier * l2Sensitivity
    }

    /// Adds noise to every element of `values`.
    @inlinable
    public func addNoise(to values: inout [Float], using noise: inout some NoiseSource) {
        let sigma = self.standardDeviation
        values.withUnsafeMutableBufferPointer { v in
            for i in v.indices {
                v[i] = Float(Double(v[i]) + sigma * noise.gaussian())
            }
        }
    }

    /// Returns `value` plus noise.
    @inlinable
    public func noised(_ value: Double, using noise: inout some NoiseSource) -> Double {
        value + self.standardDeviation * noise.gaussian()
    }
}
