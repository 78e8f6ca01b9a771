/// One site's data readiness: computed at the site from its own rows and the federation's released aggregates.
public struct ReadinessReport: Sendable, Hashable, Codable {
    public var site: String
    /// Rows the readiness query read.
    public var rows: Int
    public var conformance: SchemaConformance
    public var label: LabelReadiness?
    public var features: [FeatureReadiness]
    /// Findings, most severe first.
    public var flags: [ReadinessFlag]

    /// The flags of one column.
    public func flags(for column: String) -> [ReadinessFlag] { self.flags.filter { $0.column == column } }
}

/// A finding worth a data scientist's attention.
public struct ReadinessFlag: Sendable, Hashable, Codable, Comparable {
    /// How serious a finding is.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
        case info, warning, critical

        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var severity: Severity
    /// Stable identifier of the check, e.g. `placeholder-value`, `label-prevalence-gap`, `distribution-shift`.
    public var code: String
    public var column: String?
    public var message: String

    public init(_ severity: Severity, _ code: String, column: String? = nil, _ message: String) {
        self.severity = severity
        self.code = code
        self.column = column
        self.message = message
    }

    /// Severity first (most severe first), then column and code.
    public static func < (a: ReadinessFlag, b: ReadinessFlag) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        if (a.column ?? "") != (b.column ?? "") { return (a.column ?? "") < (b.column ?? "") }
        return a.code < b.code
    }
}

/// How well a site's files matched the schema (from the loader's validation reports).
public struct SchemaConformance: Sendable, Hashable, Codable {
    public var rowsRead: Int
    public var rowsAccepted: Int
    public var rowsRejected: Int
    public var rowsDropped: Int
    /// File columns the schema does not name.
    public var ignoredColumns: [String]
    /// Per column: cells that were not numbers or not binary values.
    public var invalidValues: [String: Int]
    /// Per column: cells with undeclared categories.
    public var unknownCategories: [String: Int]
    /// Per column: values outside the declared range.
    public var outOfRange: [String: Int]
}

/// A feature at the site against the rest of the federation.
public struct FeatureReadiness: Sendable, Hashable, Codable {
    public var column: String
    /// `numeric`, `binary` or `categorical`.
    public var kind: String
    public var missingFraction: Double
    public var site: Moments?
    /// The federation without this site, from released aggregates.
    public var rest: Moments?
    public var smd: Double?
    public var psi: Double?
    /// The most frequent value at the site and its share of the site's values (numeric).
    public var dominantValue: Double?
    public var dominantShare: Double?
    /// Labels of the shared bins (or levels), and the counts at the site and in the rest of the federation.
    public var bins: [String]
    public var siteCounts: [Double]
    public var restCounts: [Double]
}

/// The label's distribution at the site against the rest of the federation.
public struct LabelReadiness: Sendable, Hashable, Codable {
    public var column: String
    public var classes: [String]
    public var siteCounts: [Double]
    public var restCounts: [Double]
    /// Share of the last class (the positive class of a binary label) at the site and in the rest.
    public var prevalence: Double?
    public var restPrevalence: Double?
}

/// The federation's readiness: every site's report plus what the released aggregates show across sites.
public struct FederationReadiness: Sendable, Hashable, Codable {
    public var sites: [ReadinessReport]
    /// Federation-level findings.
    public var flags: [ReadinessFlag]
    /// Per site, from released aggregates only: prevalence and per-feature SMD against the rest.
    public var overview: [SiteOverview]
    /// Features in the order of the reports.
    public var features: [String]

    /// One row of the federation page, computed from what the site released.
    public struct SiteOverview: Sendable, Hashable, Codable {
        public var site: String
        public var rows: Double?
        public var prevalence: Double?
        /// By feature; nil where the site withheld the feature.
        public var smd: [String: Double]
        public var psi: [String: Double]
        /// Codes of the site's own flags by severity (the site shares codes, not the values behind them).
        public var flagCodes: [String]
        public var critical: Int
        public var warnings: Int
    }

    public func site(_ name: String) -> ReadinessReport? { self.sites.first { $0.site == name } }
}
