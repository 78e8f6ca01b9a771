public import CohortModel
import CohortTensor

/// Norm bounding (Sun, Kairouz, Suresh and McMahan, "Can You Really Backdoor Federated Learning?", 2019), with the
/// bound set each round from the updates themselves: updates whose L2 norm exceeds `multiple ×` the round's median
/// norm are clipped to that bound or dropped, and the rest are averaged by example count as in FedAvg (exactly,
/// with ``ExactAccumulator``).
///
/// Clipped sites are listed in the round's notes; dropped sites are reported as excluded. Since at least half the
/// updates lie at or below the median, a majority of honest sites fixes the bound whatever the others send. It
/// bounds the influence of scaled and noisy updates but not of small ones pointing the wrong way, and it keeps
/// FedAvg's trust in self-reported example counts.
///
/// Cost `O(n d)`; memory `O(n d)` here. Unlike the other robust rules, a fixed bound can be enforced at each site
/// before secure aggregation masks the update, so norm bounding combines with secure aggregation (the median-based
/// bound needs individual norms, which secure aggregation hides).
public struct NormBound: RobustRule {
    /// What happens to an update above the bound.
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        /// Scale it down to the bound.
        case clip
        /// Leave it out of the round.
        case drop
    }

    /// The bound as a multiple of the round's median update norm (at least 1).
    public let multiple: Double
    public let mode: Mode

    /// - Precondition: `multiple >= 1` and finite.
    public init(multiple: Double = 3, mode: Mode = .clip) {
        precondition(multiple >= 1 && multiple.isFinite, "the norm multiple must be at least 1")
        self.multiple = multiple
        self.mode = mode
    }

    public var name: String { "norm-bound" }

    public func completeRound(global: ModelParameters, aggregator: BufferedAggregator, state: inout Int) -> RoundOutcome {
        let matrix = UpdateMatrix(aggregator.updates)
        let n = matrix.count
        guard n > 0 else { return RobustRound.declined(global, "norm bound: no updates") }
        let norms = matrix.rows.map(\.l2Norm)
        let sortedNorms = norms.sorted()
        let median = n % 2 == 1 ? sortedNorms[n / 2] : (sortedNorms[n / 2 - 1] + sortedNorms[n / 2]) / 2
        let bound = self.multiple * median
        let f = RobustRound.format
        var rows = [[Float]](), sites = [String](), examples = [Int]()
        var excluded = [SiteFailure](), notes = [String]()
        for k in 0..<n {
            var row = matrix.rows[k]
            if norms[k] > bound {
                let what = "update norm \(f(norms[k])) exceeds \(f(self.multiple)) × the round's median norm \(f(median))"
                switch self.mode {
                case .drop:
                    excluded.append(SiteFailure(site: matrix.sites[k], code: .excluded, message: "\(what); dropped"))
                    continue
                case .clip:
                    row.scale(by: Float(bound / norms[k]))
                    notes.append("\(matrix.sites[k]): \(what); clipped to \(f(bound))")
                }
            }
            rows.append(row)
            sites.append(matrix.sites[k])
            examples.append(matrix.examples[k])
        }
        let kept = UpdateMatrix(sites: sites, rows: rows, examples: examples, columns: matrix.columns)
        let (mean, overflow) = kept.mean(weights: examples.map(Double.init))
        state += 1
        return RoundOutcome(global: RobustRound.apply(mean, to: global), excluded: excluded + overflow, notes: notes)
    }
}
