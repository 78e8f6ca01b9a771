import CohortTensor

/// Gaussian noise scales for a sensitivity and a privacy loss (Laplace scales come from
/// ``CohortPrivacy/LaplaceMechanism``).
public enum NoiseCalibration {
    /// The smallest Gaussian standard deviation that gives (ε, δ)-DP for L2 sensitivity `Δ₂`: the analytic Gaussian
    /// mechanism of Balle and Wang (2018, Theorem 8), valid for every ε > 0 (the classical
    /// `Δ₂ √(2 ln(1.25/δ)) / ε` needs ε < 1 and is looser).
    ///
    /// Solves `Φ(Δ/2σ - εσ/Δ) - e^ε Φ(-Δ/2σ - εσ/Δ) = δ` for σ by bisection.
    public static func gaussianSigma(sensitivity: Double, epsilon: Double, delta: Double) -> Double {
        guard sensitivity > 0 else { return 0 }
        func deltaFor(_ sigma: Double) -> Double { Self.gaussianDelta(sigma: sigma, sensitivity: sensitivity, epsilon: epsilon) }
        var hi = sensitivity * (2 * Math.log(1.25 / delta)).squareRoot() / min(epsilon, 1)
        while deltaFor(hi) > delta { hi *= 2 }
        var lo = hi
        while deltaFor(lo) <= delta && lo > 1e-12 * sensitivity { lo /= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if deltaFor(mid) > delta { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return hi
    }

    /// The privacy loss δ that Gaussian noise of standard deviation σ gives for sensitivity Δ at ε (Balle and Wang).
    public static func gaussianDelta(sigma: Double, sensitivity: Double, epsilon: Double) -> Double {
        let a = sensitivity / (2 * sigma), b = epsilon * sigma / sensitivity
        return Self.normalCDF(a - b) - Math.exp(epsilon) * Self.normalCDF(-a - b)
    }

    /// The standard normal CDF.
    static func normalCDF(_ x: Double) -> Double { 0.5 * Math.erfc(-x / 2.0.squareRoot()) }
}
