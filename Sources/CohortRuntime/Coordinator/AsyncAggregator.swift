public import CohortModel
public import CohortStrategy
public import CohortTensor

/// The coordinator's side of asynchronous training, shared by the simulation and the network: updates arrive one
/// at a time, each computed from the model version its site started from; stale ones are dropped, the rest are
/// weighted by s(τ) = 1/sqrt(1 + τ) and applied as FedBuff or FedAsync prescribes.
public struct AsyncAggregator: Sendable {
    public let mode: AsyncMode
    public let maxStaleness: Int
    public private(set) var global: ModelParameters
    /// Model versions applied so far.
    public private(set) var version = 0
    private var buffer: ExactAccumulator
    /// Sites whose updates are in the buffer (FedBuff), in arrival order.
    public private(set) var buffered: [String] = []
    /// Training reports of the buffered updates.
    public private(set) var bufferedTraining: [String: SiteTrainingRecord] = [:]

    /// What became of one update.
    public enum Outcome: Sendable, Hashable {
        /// Kept in the buffer.
        case buffered(staleness: Int)
        /// A new version was applied from these sites' updates.
        case applied(sites: [String], training: [String: SiteTrainingRecord], staleness: Int)
        /// Older than the maximum staleness: dropped.
        case stale(staleness: Int)
        /// Unusable (wrong length, non-finite values).
        case rejected(String)
    }

    public init(mode: AsyncMode, maxStaleness: Int, global: ModelParameters, version: Int = 0) {
        self.mode = mode
        self.maxStaleness = maxStaleness
        self.global = global
        self.version = version
        self.buffer = ExactAccumulator(count: global.count)
    }

    /// Takes one update computed from model version `baseVersion`.
    public mutating func accept(_ u: SiteUpdate, baseVersion: Int) -> Outcome {
        let tau = self.version - baseVersion
        guard tau >= 0 else { return .rejected("the update claims model version \(baseVersion), newer than the current \(self.version)") }
        guard tau <= self.maxStaleness else { return .stale(staleness: tau) }
        guard u.delta.count == self.global.count else {
            return .rejected("the update has \(u.delta.count) values; the model has \(self.global.count)")
        }
        guard u.delta.allFinite else { return .rejected("the update contains NaN or infinite values") }
        let s = AsyncSettings.stalenessWeight(tau)
        switch self.mode {
        case .fedBuff(let k, let lr):
            do throws(AccumulatorError) { try self.buffer.add(u.delta, weight: s * Double(u.exampleCount)) } catch {
                return .rejected(error.description)
            }
            self.buffered.append(u.site)
            self.bufferedTraining[u.site] = SiteTrainingRecord(u)
            guard self.buffer.contributions >= k else { return .buffered(staleness: tau) }
            self.global.flat.addScaled(self.buffer.weightedMean(), by: lr)
            self.buffer = ExactAccumulator(count: self.global.count)
            let sites = self.buffered, training = self.bufferedTraining
            self.buffered = []
            self.bufferedTraining = [:]
            self.version += 1
            return .applied(sites: sites, training: training, staleness: tau)
        case .fedAsync(let alpha):
            self.global.flat.addScaled(u.delta, by: alpha * Float(s))
            self.version += 1
            return .applied(sites: [u.site], training: [u.site: SiteTrainingRecord(u)], staleness: tau)
        }
    }
}
