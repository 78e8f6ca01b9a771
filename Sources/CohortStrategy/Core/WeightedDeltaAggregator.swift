public import CohortModel
public import CohortTensor

/// Streams site updates into an exact weighted sum of deltas (memory: one model).
///
/// Each update is checked before it touches the sum: it must have the model's length and only finite values.
/// Because the sum is exact (``ExactAccumulator``), the aggregate does not depend on the order updates arrive in.
public struct WeightedDeltaAggregator: UpdateAggregator {
    /// How updates are weighted.
    public enum Weighting: String, Sendable, Hashable, Codable {
        /// By training examples (FedAvg).
        case examples
        /// Every site equally.
        case uniform
    }

    public private(set) var accumulator: ExactAccumulator
    public let weighting: Weighting
    public let expectedSites: Set<String>
    public private(set) var acceptedSites: [String] = []
    /// Each accepted site's training summary and example count.
    public private(set) var siteTraining: [String: SiteTrainingRecord] = [:]

    public init(parameterCount: Int, weighting: Weighting = .examples, expectedSites: Set<String>) {
        self.accumulator = ExactAccumulator(count: parameterCount)
        self.weighting = weighting
        self.expectedSites = expectedSites
    }

    public mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
        if let partial = update.partial {
            try self.merge(partial, from: update)
            return
        }
        try UpdateChecks.check(update, expected: self.expectedSites, accepted: self.acceptedSites, length: self.accumulator.count)
        let w = self.weighting == .examples ? Double(update.exampleCount) : 1
        do throws(AccumulatorError) {
            try self.accumulator.add(update.delta, weight: w)
        } catch {
            throw SiteFailure(site: update.site, code: .rejected, message: error.description)
        }
        self.acceptedSites.append(update.site)
        self.siteTraining[update.site] = SiteTrainingRecord(update)
    }

    /// Merges a regional aggregator's exact partial sum (example weighting only: the region weighted its sites).
    mutating func merge(_ partial: ExactAccumulator, from update: SiteUpdate) throws(SiteFailure) {
        guard self.expectedSites.contains(update.site), !self.acceptedSites.contains(update.site) else {
            throw SiteFailure(site: update.site, code: .rejected, message: "the region was not selected, or sent a second aggregate")
        }
        guard self.weighting == .examples else {
            throw SiteFailure(site: update.site, code: .rejected, message: "regional aggregates need example weighting")
        }
        do throws(AccumulatorError) { try self.accumulator.merge(partial) } catch {
            throw SiteFailure(site: update.site, code: .rejected, message: error.description)
        }
        self.acceptedSites.append(update.site)
        self.siteTraining[update.site] = SiteTrainingRecord(update)
    }

    /// What a regional tier passes up: the exact partial sum of its accepted sites as one "site" (its examples are
    /// the region's total), or nil when no site was accepted.
    public func regionalUpdate(site: String, round: Int) -> SiteUpdate? {
        guard !self.acceptedSites.isEmpty else { return nil }
        let records = self.siteTraining.values
        let summary = TrainingSummary(steps: records.reduce(0) { $0 + $1.training.steps },
                                      examplesSeen: records.reduce(0) { $0 + $1.training.examplesSeen },
                                      meanLoss: self.meanTrainingLoss)
        return SiteUpdate(site: site, round: round, delta: [], exampleCount: records.reduce(0) { $0 + $1.examples },
                          training: summary, partial: self.accumulator)
    }

    /// The weighted mean delta.
    public var meanDelta: [Float] { self.accumulator.weightedMean() }

    /// Example-weighted mean training loss of the accepted sites (summed in site-name order).
    public var meanTrainingLoss: Double { SiteTrainingRecord.weightedLoss(self.siteTraining) }
}

/// What one site reported about its local training in a round.
public struct SiteTrainingRecord: Sendable, Hashable, Codable {
    public var examples: Int
    public var training: TrainingSummary
    public var transfer: TransferBytes?

    public init(examples: Int, training: TrainingSummary, transfer: TransferBytes? = nil) {
        self.examples = examples
        self.training = training
        self.transfer = transfer
    }

    /// The record of an accepted update.
    public init(_ update: SiteUpdate) {
        self.init(examples: update.exampleCount, training: update.training, transfer: update.transfer)
    }

    /// Example-weighted mean loss, summed in site-name order so the result does not depend on arrival order.
    public static func weightedLoss(_ records: [String: SiteTrainingRecord]) -> Double {
        var s = 0.0, n = 0
        for k in records.keys.sorted() {
            s += records[k]!.training.meanLoss * Double(records[k]!.examples)
            n += records[k]!.examples
        }
        return n > 0 ? s / Double(n) : .nan
    }
}

/// The checks every aggregator applies before an update may touch its state.
public enum UpdateChecks {
    /// Refuses an update from a site that was not selected, a second update, a wrong length, non-finite values or
    /// zero examples; the message says which.
    public static func check(_ update: SiteUpdate, expected: Set<String>, accepted: [String], length: Int) throws(SiteFailure) {
        guard expected.contains(update.site) else {
            throw SiteFailure(site: update.site, code: .rejected, message: "the site was not selected for this round")
        }
        guard !accepted.contains(update.site) else {
            throw SiteFailure(site: update.site, code: .rejected, message: "a second update for the same round")
        }
        guard update.delta.count == length else {
            throw SiteFailure(site: update.site, code: .rejected, message: "update has \(update.delta.count) values, the model has \(length)")
        }
        if let bad = update.delta.withUnsafeBufferPointer({ Vector.firstNonFinite($0) }) {
            throw SiteFailure(site: update.site, code: .rejected,
                              message: "update value \(bad) is \(update.delta[bad]); NaN and infinite values are refused")
        }
        guard update.exampleCount > 0 else {
            throw SiteFailure(site: update.site, code: .rejected, message: "update is based on zero examples")
        }
    }
}
