/// Quantiles from the fine runs of several sites over one shared grid.
///
/// Each site released its fine cells as runs of adjacent cells (``QuantileRun``). At every cell edge e the
/// federation's cumulative count C(e) is then known to lie between L(e), the sum of runs ending at or before e,
/// and U(e), which adds the runs that straddle e. The estimate spreads each run's count evenly over its cells and
/// interpolates linearly inside the cell where the cumulative count reaches the target rank; the interval
/// `[lower, upper]` covers every cell where the true quantile can be given L and U.
enum QuantileEstimation {
    static func estimate(runs sites: [[QuantileRun]], grid: BinGrid, probabilities: [Double], exactCounts: Bool) -> [QuantileEstimate] {
        let cells = grid.cellCount
        var lowerCum = [Double](repeating: 0, count: cells + 1)
        var upperCum = [Double](repeating: 0, count: cells + 1)
        var estCum = [Double](repeating: 0, count: cells + 1)
        for runs in sites {
            var start = 0
            var before = 0.0
            for run in runs {
                let end = min(max(run.end, start), cells)
                let count = max(0, run.count)
                if end > start {
                    for e in (start + 1)..<end {
                        lowerCum[e] += before
                        upperCum[e] += before + count
                        estCum[e] += before + count * Double(e - start) / Double(end - start)
                    }
                }
                before += count
                lowerCum[end] += before
                upperCum[end] += before
                estCum[end] += before
                start = end
            }
            // Edges after the last run (a malformed answer) see everything.
            if start < cells {
                for e in (start + 1)...cells {
                    lowerCum[e] += before
                    upperCum[e] += before
                    estCum[e] += before
                }
            }
        }
        let n = estCum[cells]
        return probabilities.map { p in
            var q = QuantileEstimate(probability: p)
            guard n > 0 else { return q }
            let rank = exactCounts ? max(1, (p * n - 1e-9).rounded(.up)) : p * n
            guard let e = (1...cells).first(where: { estCum[$0] >= rank }) else { return q }
            let cell = e - 1
            if cell == 0 || cell == cells - 1 {
                q.value = cell == 0 ? grid.lower : grid.upper
            } else {
                let lo = grid.lowerEdge(ofCell: cell), hi = grid.upperEdge(ofCell: cell)
                let span = estCum[e] - estCum[e - 1]
                let frac = span > 0 ? (rank - estCum[e - 1]) / span : 1
                q.value = lo + min(1, max(0, frac)) * (hi - lo)
            }
            let first = (1...cells).first { upperCum[$0] >= rank } ?? cells
            let last = (1...cells).first { lowerCum[$0] >= rank } ?? cells
            let lower = grid.lowerEdge(ofCell: first - 1), upper = grid.upperEdge(ofCell: last - 1)
            if lower.isFinite { q.lower = lower }
            if upper.isFinite { q.upper = upper }
            if let v = q.value, lower.isFinite, upper.isFinite { q.errorBound = max(v - lower, upper - v) }
            return q
        }
    }
}

extension QuantileEstimate {
    init(probability: Double) {
        self.probability = probability
    }
}
