public import CohortModel

/// Bulyan (El Mhamdi, Guerraoui and Rouault, "The Hidden Vulnerability of Distributed Learning in Byzantium",
/// ICML 2018): a Krum-based selection followed by a coordinate-wise trimmed mean.
///
/// With `n` updates and at most `f` Byzantine:
/// 1. Select `θ = n - 2f` updates by applying Krum repeatedly: each time, the update with the lowest Krum score
///    among those not yet selected (its `r - f - 2` nearest of the `r` remaining) moves to the selection.
/// 2. For each coordinate, average the `β = θ - 2f` selected values closest to their median.
///
/// Needs `n >= 4f + 3`: ``validate(siteCount:)`` checks a federation up front, and a round with fewer updates (after
/// dropouts) is declined with a note. Ignores example counts. Cost: one Gram matrix by GEMM (`O(n² d)`), `θ` Krum
/// passes over it (`O(θ n² log n)`), and `O(d θ log θ)` for the coordinates; memory `O(n d)`.
public struct Bulyan: RobustRule {
    /// `f`: the number of Byzantine sites assumed.
    public let byzantine: Int

    /// - Precondition: `byzantine >= 0`.
    public init(byzantine: Int) {
        precondition(byzantine >= 0, "the number of Byzantine sites cannot be negative")
        self.byzantine = byzantine
    }

    public var name: String { "bulyan" }

    /// The fewest updates the rule accepts to aggregate: `4f + 3`.
    public var minimumUpdates: Int { 4 * self.byzantine + 3 }

    /// Checks that a federation of `siteCount` sites can run Bulyan at all.
    public func validate(siteCount: Int) throws(StrategySpecError) {
        guard siteCount >= self.minimumUpdates else {
            throw StrategySpecError(
                key: "byzantine",
                message: "Bulyan with f = \(self.byzantine) Byzantine sites needs at least \(self.minimumUpdates) sites"
                    + " (n >= 4f + 3); there are \(siteCount)")
        }
    }

    public func completeRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> RoundOutcome {
        let matrix = UpdateMatrix(aggregator.updates)
        let n = matrix.count, f = self.byzantine
        guard n >= self.minimumUpdates else {
            return RobustRound.declined(
                global,
                "bulyan with f = \(f) needs at least \(self.minimumUpdates) updates (n >= 4f + 3); \(n) arrived: the model is unchanged")
        }
        let theta = n - 2 * f
        let chosen = self.select(matrix, count: theta)
        let kept = Set(chosen)
        let excluded = (0..<n).filter { !kept.contains($0) }.map { i in
            SiteFailure(site: matrix.sites[i], code: .excluded,
                        message: "not among the \(theta) updates Bulyan (f = \(f)) selected by repeated Krum")
        }
        let delta = matrix.subset(chosen).reduceCoordinates(.meanAroundMedian(keep: theta - 2 * f))
        state += 1
        return RoundOutcome(global: RobustRound.apply(delta, to: global), excluded: excluded)
    }

    /// Indices of the `count` rows chosen by repeated Krum, in selection order.
    func select(_ matrix: UpdateMatrix, count: Int) -> [Int] {
        let n = matrix.count
        let distances = matrix.squaredDistances()
        var remaining = Array(0..<n)
        var chosen = [Int]()
        while chosen.count < count {
            let scores = RobustRound.krumScores(
                distances: distances, n: n, among: remaining, neighbours: remaining.count - self.byzantine - 2)
            let best = RobustRound.lowest(1, of: remaining, scores: scores)[0]
            chosen.append(best)
            remaining.removeAll { $0 == best }
        }
        return chosen
    }
}
