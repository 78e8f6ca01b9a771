import CohortTensor

/// Distribution shift between a site and the rest of a federation.
public enum ShiftMetrics {
    /// Proportions below this are raised to it before the PSI's logarithm (an empty bin would be infinite).
    public static let psiFloor = 1e-4

    /// Standardised mean difference `(mean_a - mean_b) / sqrt((var_a + var_b) / 2)`; nil when both are constant.
    public static func smd(_ a: Moments, _ b: Moments) -> Double? {
        guard a.count > 0, b.count > 0 else { return nil }
        let va = a.variance ?? 0, vb = b.variance ?? 0
        let pooled = ((va + vb) / 2).squareRoot()
        guard pooled > 0 else { return nil }
        return (a.mean - b.mean) / pooled
    }

    /// Population stability index `Σ (p_i - q_i) ln(p_i / q_i)` over shared bins (counts; proportions floored at
    /// ``psiFloor``); nil when either side is empty.
    public static func psi(_ a: [Double], _ b: [Double]) -> Double? {
        let ta = a.reduce(0) { $0 + max(0, $1) }, tb = b.reduce(0) { $0 + max(0, $1) }
        guard ta > 0, tb > 0, a.count == b.count else { return nil }
        var s = 0.0
        for (x, y) in zip(a, b) {
            let p = max(Self.psiFloor, max(0, x) / ta), q = max(Self.psiFloor, max(0, y) / tb)
            s += (p - q) * Math.log(p / q)
        }
        return s
    }
}
