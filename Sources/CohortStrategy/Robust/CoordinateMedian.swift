public import CohortModel

/// Coordinate-wise median (Yin, Chen, Ramchandran and Bartlett, "Byzantine-Robust Distributed Learning: Towards
/// Optimal Statistical Rates", ICML 2018): each parameter of the next update is the median of the sites' values
/// for it (the mean of the two middle values when the count is even).
///
/// Robust while fewer than half the updates are Byzantine; needs no estimate of their number. Ignores example
/// counts (a Byzantine site could claim any count). Cost: `O(n log n)` per coordinate, `O(d n log n)` in all, spread
/// over all cores; memory `O(n d)` (see ``BufferedAggregator``).
public struct CoordinateMedian: RobustRule {
    public init() {}

    public var name: String { "median" }

    public func completeRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> RoundOutcome {
        let matrix = UpdateMatrix(aggregator.updates)
        guard matrix.count > 0 else { return RobustRound.declined(global, "median: no updates") }
        state += 1
        return RoundOutcome(global: RobustRound.apply(matrix.reduceCoordinates(.median), to: global))
    }
}
