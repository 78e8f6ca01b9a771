import CohortTensor

/// Rényi differential privacy of one step of the Poisson-subsampled Gaussian mechanism.
///
/// Each record takes part in a step independently with probability `q`; the mechanism adds Gaussian noise with
/// standard deviation `σ · C` to a sum of contributions whose L2 norm is at most `C`, and neighbouring datasets differ
/// by adding or removing one record. The RDP at order `α` is `log(A_α) / (α − 1)` with
///
///     A_α = E_{z ~ N(0, σ²)} [((1 − q) + q · exp((2z − 1) / (2σ²)))^α]
///
/// (Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019). Integer orders
/// use the finite binomial expansion; fractional orders use the paper's two convergent series, summed with their
/// signs in log space, as TensorFlow Privacy and Opacus do. (dp-accounting 0.6.0 sums the absolute values of the
/// terms instead, an upper bound that is up to about 1% larger for small `σ`; see docs/privacy.md.)
public enum SampledGaussianRDP {
    /// The series for fractional orders stops once both new terms are below `exp(stopLogTerm)` (as in the
    /// reference implementations); `A_α ≥ 1`, so the truncation error is below 1e-13 relative.
    static let stopLogTerm = -30.0

    /// Upper limit on series terms; an order whose series has not converged by then is reported as `+∞`, i.e.
    /// excluded from the minimum over orders (conservative). This happens only for orders near 1 when `q` is near ½
    /// and `σ` is large, where the terms decay polynomially; those orders are never the optimum there.
    static let maxTerms = 100_000

    /// The RDP `ε(α)` of one step.
    ///
    /// `q = 0` gives 0; `q = 1` gives the Gaussian mechanism's closed form `α / (2σ²)`; `σ = 0` or an infinite order
    /// gives `+∞`.
    ///
    /// - Parameters:
    ///   - noiseMultiplier: `σ`, the noise standard deviation divided by the L2 sensitivity; finite and `≥ 0`.
    ///   - samplingRate: `q ∈ [0, 1]`.
    ///   - order: `α > 1`.
    public static func rdp(noiseMultiplier sigma: Double, samplingRate q: Double, order alpha: Double) -> Double {
        precondition(alpha > 1, "RDP order \(alpha) must be above 1")
        precondition(q >= 0 && q <= 1, "sampling rate \(q) is outside [0, 1]")
        precondition(sigma >= 0, "noise multiplier \(sigma) is negative")
        if alpha.isInfinite || sigma == 0 { return .infinity }
        if q == 0 { return 0 }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA: Double
        if alpha.rounded(.towardZero) == alpha, alpha <= Double(Int.max / 2) {
            logA = Self.logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
        } else {
            logA = Self.logAFractional(q: q, sigma: sigma, alpha: alpha)
        }
        return max(0, logA / (alpha - 1))
    }

    /// `log(A_α)` for an integer order: `Σ_{i=0}^{α} C(α, i) q^i (1 − q)^{α−i} exp((i² − i) / (2σ²))`.
    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        let logQ = Math.log(q), log1mQ = Math.log1p(-q)
        let twoSigma2 = 2 * sigma * sigma
        var logA = -Double.infinity
        var logBinomial = 0.0  // log C(α, 0)
        for i in 0...alpha {
            if i > 0 { logBinomial += Math.log(Double(alpha - i + 1)) - Math.log(Double(i)) }
            let di = Double(i)
            let term = logBinomial + di * logQ + Double(alpha - i) * log1mQ + (di * di - di) / twoSigma2
            logA = LogSpace.add(logA, term)
        }
        return logA
    }

    /// `log(A_α)` for a fractional order: the two integrals over `(−∞, z₀]` and `[z₀, ∞)` expanded as series in the
    /// generalised binomial coefficients `C(α, i)`, whose signs alternate once `i > α + 1`.
    ///
    /// Returns `+∞` if a partial sum would turn negative (round-off) or the series does not converge.
    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        let logQ = Math.log(q), log1mQ = Math.log1p(-q)
        let sigma2 = sigma * sigma
        let z0 = sigma2 * Math.log(1 / q - 1) + 0.5
        let sqrt2Sigma = 2.0.squareRoot() * sigma
        let logHalf = Math.log(0.5)
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        var logBinomial = 0.0  // log |C(α, 0)|
        var positive = true  // sign of C(α, i)
        var i = 0
        while i < Self.maxTerms {
            if i > 0 {
                let factor = alpha - Double(i - 1)  // C(α, i) = C(α, i − 1) · (α − i + 1) / i
                logBinomial += Math.log(abs(factor)) - Math.log(Double(i))
                if factor < 0 { positive.toggle() }
            }
            let di = Double(i)
            let j = alpha - di
            let logT0 = logBinomial + di * logQ + j * log1mQ
            let logT1 = logBinomial + j * logQ + di * log1mQ
            let logE0 = logHalf + Self.logErfc((di - z0) / sqrt2Sigma)
            let logE1 = logHalf + Self.logErfc((z0 - j) / sqrt2Sigma)
            let logS0 = logT0 + (di * di - di) / (2 * sigma2) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma2) + logE1
            if positive {
                logA0 = LogSpace.add(logA0, logS0)
                logA1 = LogSpace.add(logA1, logS1)
            } else {
                guard let a0 = LogSpace.subtract(logA0, logS0), let a1 = LogSpace.subtract(logA1, logS1) else {
                    return .infinity
                }
                logA0 = a0
                logA1 = a1
            }
            i += 1
            if max(logS0, logS1) < Self.stopLogTerm { return LogSpace.add(logA0, logA1) }
        }
        return .infinity
    }

    /// `log(erfc(x))`, accurate where `erfc(x)` underflows: beyond `x = 25` it uses the asymptotic expansion
    /// `erfc(x) ≈ exp(−x² − 1/(2x²) + 5/(8x⁴) − 37/(24x⁶) + 353/(64x⁸)) / (x √π)`, whose next term is below 1e-13.
    static func logErfc(_ x: Double) -> Double {
        if x <= 25 { return Math.log(Math.erfc(x)) }
        let x2 = x * x
        let inv2 = 1 / x2
        return -0.5 * Math.log(Double.pi) - Math.log(x) - x2
            + inv2 * (-0.5 + inv2 * (0.625 + inv2 * (-37.0 / 24.0 + inv2 * (353.0 / 64.0))))
    }
}

/// Arithmetic on numbers stored as their natural logarithms (`−∞` represents 0).
enum LogSpace {
    /// `log(exp(x) + exp(y))`.
    @inline(__always)
    static func add(_ x: Double, _ y: Double) -> Double {
        let a = min(x, y), b = max(x, y)
        if a == -.infinity { return b }
        return Math.log1p(Math.exp(a - b)) + b
    }

    /// `log(exp(x) − exp(y))`, or nil when the difference would be negative.
    @inline(__always)
    static func subtract(_ x: Double, _ y: Double) -> Double? {
        if x < y { return nil }
        if y == -.infinity { return x }
        if x == y { return -.infinity }
        let d = x - y
        if d > 700 { return x }  // exp(d) − 1 overflows; the subtrahend is negligible
        return Math.log(Math.expm1(d)) + y
    }
}
