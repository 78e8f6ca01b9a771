/// What one site releases for a query: mergeable partial aggregates, never rows.
///
/// Every value has passed the site's disclosure control (``DisclosureControl``) and, when the query asked for
/// it, differential privacy noise. Suppressed values are absent and carry a ``Suppression`` saying why.
public struct SiteStatistics: Sendable, Hashable, Codable {
    public var site: String
    /// ``QueryPlan/digest`` of the plan answered.
    public var planDigest: String
    /// The minimum cell count applied.
    public var minimumCellCount: Int
    /// Noise added and privacy spent (nil: no noise).
    public var privacy: PrivacyAccounting?
    /// One entry per group of the plan, in plan order.
    public var groups: [GroupStatistics]

    public init(site: String, planDigest: String, minimumCellCount: Int, privacy: PrivacyAccounting?, groups: [GroupStatistics]) {
        self.site = site
        self.planDigest = planDigest
        self.minimumCellCount = minimumCellCount
        self.privacy = privacy
        self.groups = groups
    }

    /// The group with a key.
    public func group(_ key: String) -> GroupStatistics? { self.groups.first { $0.key == key } }
}

/// Why a value was withheld.
public struct Suppression: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Disclosure-control rules.
    public struct Rule: Sendable, Hashable, Codable, CustomStringConvertible {
        public let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// The value would be built from between 1 and k - 1 records (primary suppression).
        public static let belowMinimum = Rule("below-minimum")
        /// The value could be recovered from a released total and other cells (complementary suppression).
        public static let complementary = Rule("complementary")
        /// The enclosing group or column is suppressed.
        public static let enclosing = Rule("enclosing-suppressed")

        public init(from decoder: any Decoder) throws { self.value = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(self.value)
        }
    }

    public var rule: Rule
    public var reason: String

    public init(_ rule: Rule, _ reason: String) {
        self.rule = rule
        self.reason = reason
    }

    public var description: String { "\(self.rule): \(self.reason)" }
}

/// A released count, or the reason it was withheld (never a silent zero).
public struct ReleasedCount: Sendable, Hashable, Codable {
    public var value: Double?
    public var suppression: Suppression?

    public init(value: Double) {
        self.value = value
        self.suppression = nil
    }

    public init(suppressed: Suppression) {
        self.value = nil
        self.suppression = suppressed
    }

    public var isSuppressed: Bool { self.suppression != nil }
}

/// One group's partial aggregates at one site.
public struct GroupStatistics: Sendable, Hashable, Codable {
    /// The group's level (``QueryPlan/allRows`` when ungrouped).
    public var key: String
    /// Rows in the group after filtering.
    public var rows: ReleasedCount
    /// Column summaries, in plan order (empty when the group is suppressed).
    public var columns: [ColumnSummary]
    public var covariance: CovarianceSummary?

    public init(key: String, rows: ReleasedCount, columns: [ColumnSummary], covariance: CovarianceSummary?) {
        self.key = key
        self.rows = rows
        self.columns = columns
        self.covariance = covariance
    }

    public func column(_ name: String) -> ColumnSummary? { self.columns.first { $0.column == name } }
}

/// One column's partial aggregates in one group at one site.
public struct ColumnSummary: Sendable, Hashable, Codable {
    public var column: String
    /// Set when the whole column is withheld; every other field is then nil.
    public var suppression: Suppression?
    /// Non-missing values.
    public var count: Double?
    /// Missing values (when asked for).
    public var missing: Double?
    /// Count, mean, M2 and sum (numeric and binary columns, when asked for).
    public var moments: Moments?
    public var minimum: Double?
    public var maximum: Double?
    /// Counts in the plan's histogram cells (numeric columns).
    public var histogram: [ReleasedCount]?
    /// Runs of the plan's fine quantile cells, each holding at least k records (numeric columns).
    public var quantileRuns: [QuantileRun]?
    /// Counts per level (binary and categorical columns).
    public var levels: [ReleasedCount]?

    public init(column: String) { self.column = column }

    public init(column: String, suppressed: Suppression) {
        self.column = column
        self.suppression = suppressed
    }
}

/// Adjacent fine cells released as one count: cells from the previous run's end up to `end` (exclusive).
public struct QuantileRun: Sendable, Hashable, Codable {
    public var end: Int
    public var count: Double

    public init(end: Int, count: Double) {
        self.end = end
        self.count = count
    }
}

/// Covariance partials of one group at one site.
public struct CovarianceSummary: Sendable, Hashable, Codable {
    public var columns: [String]
    public var suppression: Suppression?
    public var moments: CoMoments?

    public init(columns: [String], suppression: Suppression?, moments: CoMoments?) {
        self.columns = columns
        self.suppression = suppression
        self.moments = moments
    }
}

/// Whether a site released an answer or refused the query.
public enum SiteAnswer: Sendable, Hashable, Codable {
    case released(SiteStatistics)
    case refused(site: String, QueryRefusal)

    public var site: String {
        switch self {
        case .released(let s): s.site
        case .refused(let site, _): site
        }
    }
}
