public import CohortData
import Crypto
import Foundation

/// A query resolved against the job's schema: the columns with their kinds, bins and value bounds.
///
/// The coordinator builds the plan (``QueryPlanner``) and sends the same plan to every site; each site's answer
/// carries the plan's digest so that partials answering different plans are never merged.
public struct QueryPlan: Sendable, Hashable, Codable {
    /// How a column is summarised.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Moments, histograms and quantiles of the values.
        case numeric
        /// Counts per level, plus moments of the 0/1 values.
        case binary
        /// Counts per level.
        case categorical
    }

    /// One column of the plan.
    public struct Column: Sendable, Hashable, Codable {
        public var name: String
        public var kind: Kind
        /// Level names (binary and categorical).
        public var levels: [String]
        /// Histogram bins (numeric, when histograms are asked for).
        public var histogram: BinGrid?
        /// Fine bins for quantiles (numeric, when quantiles are asked for).
        public var quantileGrid: BinGrid?
        /// Declared value range `[min, max]`: the sensitivity of sums under differential privacy.
        public var bounds: [Double]?
    }

    public var query: StatisticsQuery
    public var columns: [Column]
    /// The grouping column's levels, plus `(missing)` (nil: one group of all rows).
    public var groups: [String]?
    /// Numeric columns of the covariance matrix (empty unless asked for).
    public var covarianceColumns: [String]

    /// The group key of rows whose grouping value is missing.
    public static let missingGroup = "(missing)"
    /// The group key of an ungrouped query.
    public static let allRows = "all"

    /// Whether the plan asks for a statistic.
    public func wants(_ s: Statistic) -> Bool { self.query.statistics.contains(s) }

    /// Whether column moments are needed.
    var wantsMoments: Bool { self.query.statistics.contains(where: \.needsMoments) }

    /// SHA-256 of the plan's canonical JSON, hex.
    public var digest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data()
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The plan's group keys, in output order.
    public var groupKeys: [String] { self.groups ?? [Self.allRows] }

    /// The tables of a site's data that the plan reads (train, test, or both; nothing is copied).
    public func tables(of site: SiteData) -> [Table] {
        switch self.query.rows {
        case .train: [site.train]
        case .test: [site.test]
        case .all: [site.train, site.test]
        }
    }
}
