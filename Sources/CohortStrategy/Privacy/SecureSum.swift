public import CohortModel

/// How updates are encoded for secure aggregation: each value is clamped to `±clipRange` and rounded to a multiple
/// of `2^-scaleBits`, so the masked sum is an exact integer sum (see `CohortSecAgg.FixedPointEncoding`).
public struct SecureSumSettings: Sendable, Hashable, Codable {
    /// Largest magnitude of one value; larger values are clamped.
    public var clipRange: Double
    /// Fraction bits of the fixed-point encoding.
    public var scaleBits: Int

    public init(clipRange: Double, scaleBits: Int = 16) {
        self.clipRange = clipRange
        self.scaleBits = scaleBits
    }

    /// The range for updates clipped to L2 norm `clip` with Gaussian noise of standard deviation `sigma` added to
    /// every value: `clip + 8σ` (a value beyond it is clamped with probability below 1e-15).
    public static func forClippedUpdates(clip: Double, noiseStandardDeviation sigma: Double) -> SecureSumSettings {
        SecureSumSettings(clipRange: clip + 8 * sigma)
    }
}

/// The result of secure aggregation over several sites: the exact sum of their encoded updates, and nothing about
/// any one of them except what the sites reported in the clear (their training summaries).
public struct SecureSum: Sendable, Hashable {
    /// The sum of the survivors' encoded values, in units of `2^-fractionBits`.
    public var units: [Int64]
    public var fractionBits: Int
    /// The sites whose updates are in the sum, sorted.
    public var sites: [String]
    /// Their training reports (example counts, steps, loss).
    public var training: [String: SiteTrainingRecord]

    public init(units: [Int64], fractionBits: Int, sites: [String], training: [String: SiteTrainingRecord]) {
        self.units = units
        self.fractionBits = fractionBits
        self.sites = sites
        self.training = training
    }
}

/// An aggregator that can take a securely aggregated sum of several updates in place of the updates themselves.
public protocol SecureSumAggregator: UpdateAggregator {
    /// Adds the sum of several sites' updates (each counted with weight 1), or throws leaving the aggregate unchanged.
    mutating func acceptSecureSum(_ sum: SecureSum) throws(SiteFailure)
}

extension UniformSumAggregator: SecureSumAggregator {}
