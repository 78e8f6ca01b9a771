/// The federation's statistics: site partials combined in site-name order.
///
/// Only released values enter: a value a site withheld is left out and the site is named in `excludedSites`
/// (or in the cell's `withheldAt`), so a result that is not the whole federation says so.
public struct MergedStatistics: Sendable, Hashable, Codable {
    public var planDigest: String
    /// Sites whose answers were merged, in merge order.
    public var sites: [String]
    public var groups: [MergedGroup]

    public init(planDigest: String, sites: [String], groups: [MergedGroup]) {
        self.planDigest = planDigest
        self.sites = sites
        self.groups = groups
    }

    public func group(_ key: String) -> MergedGroup? { self.groups.first { $0.key == key } }
}

/// One group of the federation's statistics.
public struct MergedGroup: Sendable, Hashable, Codable {
    public var key: String
    public var rows: Double
    /// Sites that withheld this group.
    public var excludedSites: [String]
    public var columns: [MergedColumn]
    public var covariance: MergedCovariance?

    public func column(_ name: String) -> MergedColumn? { self.columns.first { $0.column == name } }
}

/// One column of one group of the federation's statistics.
public struct MergedColumn: Sendable, Hashable, Codable {
    public var column: String
    /// Non-missing values.
    public var count: Double
    /// Sites that withheld the column (or the whole group).
    public var excludedSites: [String]
    public var missing: Double?
    /// Merged moments (numeric and binary columns).
    public var moments: Moments?
    public var sum: Double?
    public var mean: Double?
    public var variance: Double?
    public var standardDeviation: Double?
    public var minimum: Double?
    public var maximum: Double?
    /// Histogram cells (numeric) in the plan's grid, underflow first and overflow last.
    public var histogram: MergedCells?
    public var quantiles: [QuantileEstimate]?
    /// Counts per level (binary and categorical).
    public var levels: MergedCells?
}

/// Merged counts of a family of cells.
public struct MergedCells: Sendable, Hashable, Codable {
    /// Sum of the released counts of each cell.
    public var counts: [Double]
    /// For each cell, the sites that withheld it (their counts are not in `counts`).
    public var withheldAt: [[String]]

    /// Whether every site released every cell.
    public var isComplete: Bool { self.withheldAt.allSatisfy(\.isEmpty) }
}

/// A quantile with the interval the true value lies in.
///
/// The quantile is the smallest value with at least `p n` values at or below it. `lower` and `upper` bound it
/// rigorously from the released counts (edges of the fine cells and of the sites' k-record runs); `errorBound`
/// is the largest distance from `value` to either. With k = 1 the bound is one fine-bin width. With noise, the
/// interval ignores the noise; nil bounds mean the quantile falls below or above the grid.
public struct QuantileEstimate: Sendable, Hashable, Codable {
    public var probability: Double
    public var value: Double?
    public var lower: Double?
    public var upper: Double?
    public var errorBound: Double?

    enum CodingKeys: String, CodingKey {
        case probability, value, lower, upper
        case errorBound = "error_bound"
    }
}

/// The federation's covariance and correlation matrices (complete cases).
public struct MergedCovariance: Sendable, Hashable, Codable {
    public var columns: [String]
    /// Complete cases merged.
    public var count: Double
    public var excludedSites: [String]
    public var means: [Double]
    /// Sample covariance, row by row (nil where undefined).
    public var covariance: [[Double?]]
    /// Pearson correlation, row by row (nil where a column is constant).
    public var correlation: [[Double?]]
}
