public import CohortModel

/// Coordinate-wise trimmed mean (Yin, Chen, Ramchandran and Bartlett, "Byzantine-Robust Distributed Learning:
/// Towards Optimal Statistical Rates", ICML 2018): for each parameter, the `⌊β n⌋` largest and `⌊β n⌋` smallest of
/// the sites' values are dropped and the rest averaged.
///
/// Robust while the Byzantine fraction is below β (β < 1/2). Ignores example counts. Cost `O(d n log n)`, spread
/// over all cores; memory `O(n d)` (see ``BufferedAggregator``).
public struct TrimmedMean: RobustRule {
    /// β: the fraction trimmed at each end, in `[0, 0.5)`.
    public let trimFraction: Double

    /// - Precondition: `0 <= trimFraction < 0.5`.
    public init(trimFraction: Double) {
        precondition(trimFraction >= 0 && trimFraction < 0.5, "the trim fraction must be in [0, 0.5)")
        self.trimFraction = trimFraction
    }

    public var name: String { "trimmed-mean" }

    /// Values trimmed at each end of a coordinate when `n` updates arrived.
    public func trimmed(of n: Int) -> Int {
        min((n - 1) / 2, Int((self.trimFraction * Double(n)).rounded(.down)))
    }

    public func completeRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> RoundOutcome {
        let matrix = UpdateMatrix(aggregator.updates)
        guard matrix.count > 0 else { return RobustRound.declined(global, "trimmed mean: no updates") }
        state += 1
        let delta = matrix.reduceCoordinates(.trimmedMean(trim: self.trimmed(of: matrix.count)))
        return RoundOutcome(global: RobustRound.apply(delta, to: global))
    }
}
