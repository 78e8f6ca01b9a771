import Testing

/// Known answers from /work/shared/data/dp-accounting-vectors.md (dp-accounting 0.6.0 and Opacus 1.6.0, δ = 1e-5,
/// add-or-remove-one neighbours), embedded so the tests do not depend on the markdown.
enum Vectors {
    static let delta = 1e-5

    /// One row of the main table (section 1) with its integer-order result (section 3).
    struct Row: Sendable, CustomTestStringConvertible {
        var sigma: Double
        var q: Double
        var steps: Int
        /// dp-accounting default orders, improved conversion (its fractional series sums |terms|).
        var dpAccountingEpsilon: Double
        var dpAccountingOrder: Double
        /// Opacus's signed series at fractional orders, improved conversion (section 2).
        var signedEpsilon: Double
        /// Classic conversion on the dp-accounting curve.
        var classicEpsilon: Double
        var classicOrder: Double
        /// PLD accountant (near-exact), a lower bound for any RDP result.
        var pldEpsilon: Double
        /// Integer orders 2…64, 128…1024, improved conversion (section 3): libraries agree to 9 digits.
        var integerEpsilon: Double
        var integerOrder: Double

        var testDescription: String { "σ=\(self.sigma) q=\(self.q) T=\(self.steps)" }
    }

    static let rows: [Row] = [
        Row(sigma: 1.1, q: 0.01, steps: 1000, dpAccountingEpsilon: 1.711770, dpAccountingOrder: 9.6,
            signedEpsilon: 1.711770, classicEpsilon: 2.082085, classicOrder: 9.8, pldEpsilon: 1.515370,
            integerEpsilon: 1.725290818, integerOrder: 9),
        Row(sigma: 1.0, q: 1.0, steps: 10, dpAccountingEpsilon: 19.053598, dpAccountingOrder: 2.5,
            signedEpsilon: 19.053598, classicEpsilon: 20.175284, classicOrder: 2.5, pldEpsilon: 17.856587,
            integerEpsilon: 19.801691480, integerOrder: 3),
        Row(sigma: 0.8, q: 0.1, steps: 100, dpAccountingEpsilon: 12.408626, dpAccountingOrder: 2.4,
            signedEpsilon: 12.358541, classicEpsilon: 13.537058, classicOrder: 2.5, pldEpsilon: 10.976378,
            integerEpsilon: 13.828010209, integerOrder: 2),
        Row(sigma: 2.0, q: 0.05, steps: 500, dpAccountingEpsilon: 2.768585, dpAccountingOrder: 7.6,
            signedEpsilon: 2.768585, classicEpsilon: 3.204359, classicOrder: 8.2, pldEpsilon: 2.532034,
            integerEpsilon: 2.774872489, integerOrder: 8),
        Row(sigma: 1.3, q: 0.2, steps: 50, dpAccountingEpsilon: 7.288331, dpAccountingOrder: 3.5,
            signedEpsilon: 7.275862, classicEpsilon: 8.116426, classicOrder: 3.6, pldEpsilon: 6.554378,
            integerEpsilon: 7.506124909, integerOrder: 4),
    ]

    /// Exact ε of the q = 1 row (10-fold Gaussian = μ-GDP with μ = √10, Balle and Wang 2018).
    static let exactGaussianEpsilon = 17.856587

    /// Single-step RDP at α = 2, 4, 8, 16, 32, 64 (section 4).
    struct SingleStep: Sendable, CustomTestStringConvertible {
        var sigma: Double
        var q: Double
        var rdp: [Double]
        var testDescription: String { "σ=\(self.sigma) q=\(self.q)" }
    }

    static let singleStepOrders: [Double] = [2, 4, 8, 16, 32, 64]

    static let singleStep: [SingleStep] = [
        SingleStep(sigma: 1.1, q: 0.01, rdp: [0.0001285100816, 0.0002667183146, 0.0005840703355, 1.699826728,
                                              8.469416434, 21.76801287]),
        SingleStep(sigma: 1.0, q: 1.0, rdp: [1, 2, 4, 8, 16, 32]),
        SingleStep(sigma: 0.8, q: 0.1, rdp: [0.03701379106, 0.3371327067, 3.618657422, 10.04390923, 22.62313797,
                                             47.66086594]),
        SingleStep(sigma: 2.0, q: 0.05, rdp: [0.0007098115659, 0.001462563213, 0.003121526642, 0.007347314103,
                                              0.9163696096, 4.95671921]),
        SingleStep(sigma: 1.3, q: 0.2, rdp: [0.03177330664, 0.0883652656, 0.6180622338, 3.017592119, 7.806100401,
                                             17.2999267]),
    ]

    /// Single-step RDP at fractional orders by numerical integration (section 2), to about 12 digits.
    static let fractional: [(sigma: Double, q: Double, order: Double, rdp: Double)] = [
        (0.8, 0.1, 2.4, 0.0529935439084),
        (1.3, 0.2, 3.5, 0.0701653801893),
        (1.1, 0.01, 9.6, 0.000746054432189),
        (0.8, 0.1, 3, 0.0950585390762),
    ]
}
