import CohortTensor

/// A Rényi-DP accountant for compositions of Poisson-subsampled Gaussian mechanisms.
///
/// The accountant keeps the RDP curve `ε(α)` of everything composed so far at a fixed set of orders; composing an
/// event adds its curve (RDP composes additively), and ``epsilon(delta:)`` converts the curve to an
/// `(ε, δ)` guarantee by minimising over the orders. Neighbouring datasets differ by adding or removing one record.
///
/// ## Example
/// ```swift
/// var accountant = RDPAccountant()
/// try accountant.compose(noiseMultiplier: 1.1, samplingRate: 0.01, steps: 1000)
/// let (epsilon, order) = accountant.epsilon(delta: 1e-5)   // 1.7118 at α = 9.6
/// ```
public struct RDPAccountant: Sendable, Hashable {
    /// The orders `α` at which the curve is tracked, each above 1.
    public let orders: [Double]
    /// The composed RDP `ε(α)` at each of ``orders`` (0 for a fresh accountant; `+∞` where unbounded).
    public internal(set) var rdp: [Double]

    /// dp-accounting's `DEFAULT_RDP_ORDERS`: 1.1 … 10.9 in steps of 0.1 (computed as `1 + x/10`, so the values match
    /// bit for bit), 11 … 63, 128, 256, 512 and 1024 (156 orders).
    public static let defaultOrders: [Double] =
        (1..<100).map { 1 + Double($0) / 10 } + (11...63).map(Double.init) + [128, 256, 512, 1024]

    /// Integer orders only: 2 … 64, 128, 256, 512 and 1024 (67 orders). Every RDP value is then computed by a
    /// finite sum, and results agree across libraries to about nine digits.
    public static let integerOrders: [Double] = (2...64).map(Double.init) + [128, 256, 512, 1024]

    /// Creates an accountant with nothing composed.
    ///
    /// - Parameter orders: RDP orders, each finite and above 1 (a precondition).
    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        precondition(!orders.isEmpty, "an RDP accountant needs at least one order")
        precondition(orders.allSatisfy { $0 > 1 && $0.isFinite }, "RDP orders must be finite and above 1")
        self.orders = orders
        self.rdp = [Double](repeating: 0, count: orders.count)
    }

    /// Composes `steps` runs of the Poisson-subsampled Gaussian mechanism.
    ///
    /// Heterogeneous events (different `σ` or `q`) compose by adding their curves; `steps == 0` changes nothing.
    ///
    /// - Parameters:
    ///   - noiseMultiplier: `σ`, noise standard deviation over L2 sensitivity; 0 means no privacy (`ε = ∞`).
    ///   - samplingRate: `q ∈ [0, 1]`, the probability that a record takes part in a step (1: every step).
    ///   - steps: how many times the mechanism runs, `≥ 0`.
    /// - Throws: ``PrivacyError`` `.invalidArgument` for a parameter outside its domain.
    public mutating func compose(noiseMultiplier: Double, samplingRate: Double, steps: Int) throws(PrivacyError) {
        try PrivacyError.checkNoiseMultiplier(noiseMultiplier)
        try PrivacyError.checkSamplingRate(samplingRate)
        try PrivacyError.checkSteps(steps)
        guard steps > 0 else { return }
        let curve = Self.curve(noiseMultiplier: noiseMultiplier, samplingRate: samplingRate, orders: self.orders)
        let t = Double(steps)
        for k in self.rdp.indices {
            self.rdp[k] += t * curve[k]
        }
    }

    /// Adds another accountant's curve (tracked at the same orders, a precondition).
    public mutating func compose(_ other: RDPAccountant) {
        precondition(other.orders == self.orders, "accountants track different orders")
        for k in self.rdp.indices { self.rdp[k] += other.rdp[k] }
    }

    /// The single-step RDP curve at `orders`.
    static func curve(noiseMultiplier: Double, samplingRate: Double, orders: [Double]) -> [Double] {
        orders.map { SampledGaussianRDP.rdp(noiseMultiplier: noiseMultiplier, samplingRate: samplingRate, order: $0) }
    }

    /// The smallest `ε` such that the composition is `(ε, δ)`-DP, and the order that attains it.
    ///
    /// Uses the conversion of Canonne, Kamath and Steinke ("The Discrete Gaussian for Differential Privacy", 2020,
    /// Prop. 12; also Asoodeh et al., "Three Variants of Differential Privacy: Lossless Conversion and
    /// Applications", 2021), as dp-accounting does:
    ///
    ///     ε = min_α  r(α) + log1p(−1/α) − log(δ·α) / (α − 1)
    ///
    /// An order contributes `ε = 0` when `δ² + expm1(−r) > 0` (the bound `δ ≤ √(1 − exp(−KL))`), and nothing when
    /// `α ≤ 1.01`, where the formula is numerically unstable. Returns `(+∞, .nan)` when `δ` is not positive or no
    /// order gives a finite bound.
    public func epsilon(delta: Double) -> (epsilon: Double, order: Double) {
        guard delta > 0 else { return (.infinity, .nan) }
        return self.minimum { alpha, r in
            if delta * delta + Math.expm1(-r) > 0 { return 0 }
            guard alpha > 1.01 else { return .infinity }
            return r + Math.log1p(-1 / alpha) - Math.log(delta * alpha) / (alpha - 1)
        }
    }

    /// The `ε` of the classic conversion, `ε = min_α r(α) + log(1/δ) / (α − 1)` (Mironov, "Rényi Differential
    /// Privacy", 2017, Prop. 3), and its order. Looser than ``epsilon(delta:)``; kept to compare with published
    /// numbers that used it (e.g. the TensorFlow Privacy tutorials).
    public func classicEpsilon(delta: Double) -> (epsilon: Double, order: Double) {
        guard delta > 0 else { return (.infinity, .nan) }
        return self.minimum { alpha, r in r - Math.log(delta) / (alpha - 1) }
    }

    /// The smallest `δ` such that the composition is `(ε, δ)`-DP, and its order: the inverse of
    /// ``epsilon(delta:)`` (same conversion, same KL-divergence bound), capped at 1.
    public func delta(epsilon: Double) -> (delta: Double, order: Double) {
        guard epsilon >= 0 else { return (1, .nan) }
        var best = Double.infinity
        var bestOrder = Double.nan
        for (alpha, r) in zip(self.orders, self.rdp) {
            var logDelta = r == 0 ? -Double.infinity : 0.5 * Math.log1p(-Math.exp(-r))
            if alpha > 1.01, r.isFinite {
                logDelta = min(logDelta, (alpha - 1) * (r - epsilon + Math.log1p(-1 / alpha)) - Math.log(alpha))
            }
            if logDelta < best || bestOrder.isNaN {
                best = logDelta
                bestOrder = alpha
            }
        }
        return (min(Math.exp(best), 1), bestOrder)
    }

    /// The minimum of `bound(α, r(α))` over the orders, clamped at 0, with its order (the first on ties).
    private func minimum(_ bound: (Double, Double) -> Double) -> (epsilon: Double, order: Double) {
        var best = Double.infinity
        var bestOrder = Double.nan
        for (alpha, r) in zip(self.orders, self.rdp) where r.isFinite {
            let e = bound(alpha, r)
            if e < best {
                best = e
                bestOrder = alpha
            }
        }
        return (max(0, best), bestOrder)
    }
}
