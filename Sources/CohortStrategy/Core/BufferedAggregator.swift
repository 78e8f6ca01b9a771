import CohortModel
import CohortTensor

/// Keeps every accepted update of a round, for aggregation rules that need all of them at once (median, trimmed
/// mean, Krum, Bulyan, norm bounding).
///
/// Each update passes the same checks as in ``WeightedDeltaAggregator`` before it is kept: the site was selected,
/// it answers once per round, the update has the model's length, every value is finite, and it rests on at least
/// one example.
///
/// ## Memory and secure aggregation
///
/// Memory is O(sites × model): every update is held until the round ends, where FedAvg's streaming sum needs
/// O(model) whatever the number of sites. A round of 100 sites with a 1M-parameter model holds 400 MB of updates.
///
/// These rules need to see individual updates, so they cannot run under secure aggregation, where the coordinator
/// only ever learns the sum. The exception is norm bounding: a site can clip its own update to an agreed bound
/// before masking it, so the bound is enforced without the coordinator seeing the update (the median-based bound
/// of ``NormBound`` then has to be replaced by a fixed one).
public struct BufferedAggregator: UpdateAggregator {
    /// Length of the model's flat parameter vector.
    public let parameterCount: Int
    /// Sites selected for the round.
    public let expectedSites: Set<String>
    /// Sites whose updates were accepted, in acceptance order.
    public private(set) var acceptedSites: [String] = []
    /// Each accepted site's training summary and example count.
    public private(set) var siteTraining: [String: SiteTrainingRecord] = [:]
    /// Accepted updates, in acceptance order.
    public private(set) var updates: [SiteUpdate] = []

    public init(parameterCount: Int, expectedSites: Set<String>) {
        self.parameterCount = parameterCount
        self.expectedSites = expectedSites
    }

    public mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
        guard self.expectedSites.contains(update.site) else {
            throw SiteFailure(site: update.site, code: .rejected, message: "the site was not selected for this round")
        }
        guard self.siteTraining[update.site] == nil else {
            throw SiteFailure(site: update.site, code: .rejected, message: "a second update for the same round")
        }
        guard update.delta.count == self.parameterCount else {
            throw SiteFailure(site: update.site, code: .rejected,
                              message: "update has \(update.delta.count) values, the model has \(self.parameterCount)")
        }
        if let bad = update.delta.withUnsafeBufferPointer({ Vector.firstNonFinite($0) }) {
            throw SiteFailure(site: update.site, code: .rejected,
                              message: "update value \(bad) is \(update.delta[bad]); NaN and infinite values are refused")
        }
        guard update.exampleCount > 0 else {
            throw SiteFailure(site: update.site, code: .rejected, message: "update is based on zero examples")
        }
        self.acceptedSites.append(update.site)
        self.siteTraining[update.site] = SiteTrainingRecord(update)
        self.updates.append(update)
    }

    /// The accepted updates sorted by site name: the order every rule works in, so that results never depend on
    /// the order updates arrived in.
    public var sortedUpdates: [SiteUpdate] {
        self.updates.sorted { $0.site < $1.site }
    }
}
