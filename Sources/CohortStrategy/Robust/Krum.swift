public import CohortModel

/// Krum and Multi-Krum (Blanchard, El Mhamdi, Guerraoui and Stainer, "Machine Learning with Adversaries: Byzantine
/// Tolerant Gradient Descent", NeurIPS 2017).
///
/// With `n` updates of which at most `f` are Byzantine, each update's score is the sum of its squared distances to
/// its `n - f - 2` nearest other updates. Krum applies the update with the lowest score; Multi-Krum averages the
/// `m` lowest-scoring updates (uniformly, exactly). Ties go to the site whose name sorts first. Sites not selected
/// are reported as excluded.
///
/// Needs `n >= 2f + 3`; a round with fewer updates is declined (the model stays unchanged, and the round's notes say
/// why). Ignores example counts. Cost: the Gram matrix by GEMM, `O(n² d)` multiply-adds, plus `O(n² log n)` for the
/// scores; memory `O(n d)` (see ``BufferedAggregator``). On strongly non-IID data Krum (`m = 1`) follows one site's
/// update each round and can lose accuracy even without attackers; Multi-Krum with `m = n - f` keeps most of
/// FedAvg's statistical efficiency.
public struct Krum: RobustRule {
    /// `f`: the number of Byzantine sites assumed.
    public let byzantine: Int
    /// `m`: updates averaged; nil means `n - f`. Krum is `m = 1`.
    public let selected: Int?

    /// - Precondition: `byzantine >= 0`, `selected >= 1` when given.
    public init(byzantine: Int, selected: Int? = 1) {
        precondition(byzantine >= 0, "the number of Byzantine sites cannot be negative")
        precondition((selected ?? 1) >= 1, "Multi-Krum must select at least one update")
        self.byzantine = byzantine
        self.selected = selected
    }

    public var name: String { self.selected == 1 ? "krum" : "multi-krum" }

    /// The fewest updates the rule accepts to aggregate: `2f + 3`.
    public var minimumUpdates: Int { 2 * self.byzantine + 3 }

    /// Updates averaged when `n` arrived.
    public func selectedCount(of n: Int) -> Int {
        max(1, min(n, self.selected ?? (n - self.byzantine)))
    }

    public func completeRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> RoundOutcome {
        let matrix = UpdateMatrix(aggregator.updates)
        let n = matrix.count, f = self.byzantine
        guard n >= self.minimumUpdates else {
            return RobustRound.declined(
                global,
                "\(self.name) with f = \(f) needs at least \(self.minimumUpdates) updates (n >= 2f + 3); \(n) arrived: the model is unchanged")
        }
        let selection = self.select(matrix)
        let (mean, overflow) = matrix.subset(selection.chosen).mean()
        state += 1
        return RoundOutcome(global: RobustRound.apply(mean, to: global), excluded: selection.excluded + overflow)
    }

    /// The chosen rows (by index) and the others as exclusions.
    func select(_ matrix: UpdateMatrix) -> (chosen: [Int], excluded: [SiteFailure]) {
        let n = matrix.count, f = self.byzantine
        let distances = matrix.squaredDistances()
        let all = Array(0..<n)
        let scores = RobustRound.krumScores(distances: distances, n: n, among: all, neighbours: n - f - 2)
        let m = self.selectedCount(of: n)
        let chosen = RobustRound.lowest(m, of: all, scores: scores)
        let cutoff = chosen.map { scores[$0] }.max() ?? 0
        let kept = Set(chosen)
        let excluded = all.filter { !kept.contains($0) }.map { i in
            let scored = "this update scored \(RobustRound.format(scores[i]))"
            return SiteFailure(site: matrix.sites[i], code: .excluded,
                               message: "\(self.name) (f = \(f)) kept the \(m) lowest scores (up to \(RobustRound.format(cutoff))); \(scored)")
        }
        return (chosen, excluded)
    }
}
