import CohortModel
import CohortTensor

/// Helpers shared by the robust rules.
enum RobustRound {
    /// `global + delta`.
    static func apply(_ delta: [Float], to global: ModelParameters) -> ModelParameters {
        var next = global
        next.flat.addScaled(delta, by: 1)
        return next
    }

    /// A round the rule declines: the model stays as it is and the note says why.
    static func declined(_ global: ModelParameters, _ reason: String) -> RoundOutcome {
        RoundOutcome(global: global, notes: [reason], isApplied: false)
    }

    /// Krum scores of the rows in `among` (Blanchard et al. 2017): each row's sum of squared distances to its
    /// `neighbours` nearest other rows in `among`.
    ///
    /// - Parameters:
    ///   - distances: `n x n` squared distances, row-major.
    ///   - n: Rows of the full matrix.
    static func krumScores(distances: [Double], n: Int, among: [Int], neighbours: Int) -> [Double] {
        among.map { i in
            var d = among.filter { $0 != i }.map { distances[i * n + $0] }
            d.sort()
            return d.prefix(max(0, neighbours)).reduce(0, +)
        }
    }

    /// The `count` entries of `among` with the lowest scores, ties broken by index (site-name order).
    static func lowest(_ count: Int, of among: [Int], scores: [Double]) -> [Int] {
        zip(among, scores).sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(count).map(\.0)
    }

    /// Compact number formatting for messages.
    static func format(_ x: Double) -> String {
        if x == 0 || (abs(x) >= 1e-3 && abs(x) < 1e6) {
            let r = (x * 10_000).rounded() / 10_000
            return "\(r)"
        }
        let exponent = Int((Math.log(abs(x)) / Math.log(10)).rounded(.down))
        let mantissa = ((x / Math.pow(10, Double(exponent))) * 100).rounded() / 100
        return "\(mantissa)e\(exponent)"
    }
}
