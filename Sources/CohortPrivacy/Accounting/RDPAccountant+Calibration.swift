extension RDPAccountant {
    /// A noise multiplier found by
    /// ``RDPAccountant/noiseMultiplier(forEpsilon:delta:samplingRate:steps:orders:tolerance:)``.
    public struct Calibration: Sendable, Hashable {
        /// The noise multiplier `σ`; the composition with it is `(epsilon, delta)`-DP.
        public var noiseMultiplier: Double
        /// The `ε` that `σ` achieves, at most the target.
        public var epsilon: Double
        /// The RDP order that attains ``epsilon``.
        public var order: Double
    }

    /// The largest noise multiplier the calibration searches: targets that need more are reported as unreachable.
    public static let maximumNoiseMultiplier = 1.0e6

    /// Finds the smallest noise multiplier (within `tolerance`) for which `steps` runs of the Poisson-subsampled
    /// Gaussian mechanism at rate `samplingRate` are `(epsilon, delta)`-DP under ``epsilon(delta:)``.
    ///
    /// `ε` decreases in `σ`, so the search brackets the answer by doubling and then bisects until the bracket
    /// `[lo, hi]` satisfies `hi − lo ≤ tolerance · hi`. It returns `hi`, whose `ε` is at most the target; the true
    /// minimum lies in `(lo, hi]`, so `σ` overshoots it by less than `tolerance` relative.
    ///
    /// - Parameters:
    ///   - epsilon: the target `ε > 0`.
    ///   - delta: `δ ∈ (0, 1)`.
    ///   - samplingRate: `q ∈ (0, 1]`.
    ///   - steps: `T ≥ 1`.
    ///   - orders: the RDP orders to minimise over.
    ///   - tolerance: relative width of the final bracket, in `(0, 0.1]`.
    /// - Throws: ``PrivacyError`` `.invalidArgument` for a parameter outside its domain, `.unreachableTarget` when
    ///   even ``maximumNoiseMultiplier`` does not reach the target.
    public static func noiseMultiplier(
        forEpsilon epsilon: Double, delta: Double, samplingRate: Double, steps: Int,
        orders: [Double] = RDPAccountant.defaultOrders, tolerance: Double = 1e-6
    ) throws(PrivacyError) -> Calibration {
        try PrivacyError.checkEpsilon(epsilon)
        try PrivacyError.checkDelta(delta)
        try PrivacyError.checkSamplingRate(samplingRate, allowZero: false)
        try PrivacyError.checkSteps(steps, minimum: 1)
        guard tolerance > 0, tolerance <= 0.1 else {
            throw PrivacyError(.invalidArgument, "tolerance \(tolerance) is outside (0, 0.1]", hint: "use e.g. 1e-6")
        }

        func evaluate(_ sigma: Double) -> (epsilon: Double, order: Double) {
            var accountant = RDPAccountant(orders: orders)
            accountant.rdp = Self.curve(noiseMultiplier: sigma, samplingRate: samplingRate, orders: orders)
                .map { $0 * Double(steps) }
            return accountant.epsilon(delta: delta)
        }

        var lo = 0.0  // ε(0) = ∞ > target
        var hi = 1.0
        var atHi = evaluate(hi)
        while atHi.epsilon > epsilon {
            lo = hi
            hi *= 2
            guard hi <= Self.maximumNoiseMultiplier else {
                throw PrivacyError(
                    .unreachableTarget,
                    "no noise multiplier up to \(Self.maximumNoiseMultiplier) gives epsilon \(epsilon) "
                        + "at delta \(delta) with sampling rate \(samplingRate) over \(steps) steps",
                    hint: "raise epsilon or delta, sample less, or take fewer steps")
            }
            atHi = evaluate(hi)
        }
        while hi - lo > tolerance * hi {
            let mid = 0.5 * (lo + hi)
            let atMid = evaluate(mid)
            if atMid.epsilon <= epsilon {
                hi = mid
                atHi = atMid
            } else {
                lo = mid
            }
        }
        return Calibration(noiseMultiplier: hi, epsilon: atHi.epsilon, order: atHi.order)
    }
}
