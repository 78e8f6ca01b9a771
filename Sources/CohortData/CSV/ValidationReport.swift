/// What validating a file against a schema found: counts per column, rejected rows and the first issues.
public struct ValidationReport: Sendable, Hashable, Codable {
    /// Per-column findings.
    public struct ColumnReport: Sendable, Hashable, Codable {
        public var name: String
        public var missing: Int = 0
        public var outOfRange: Int = 0
        public var invalid: Int = 0
        /// Values not among the declared categories, with counts.
        public var unknownCategories: [String: Int] = [:]
        public var minimum: Double?
        public var maximum: Double?

        enum CodingKeys: String, CodingKey {
            case name, missing, invalid, minimum, maximum
            case outOfRange = "out_of_range"
            case unknownCategories = "unknown_categories"
        }
    }

    /// One located problem.
    public struct Issue: Sendable, Hashable, Codable {
        public var line: Int
        public var column: String?
        public var code: String
        public var message: String
    }

    public var file: String
    public var rowsRead: Int = 0
    public var rowsAccepted: Int = 0
    public var rowsRejected: Int = 0
    /// Rows dropped because of a missing or out-of-range value whose policy is `drop`.
    public var rowsDropped: Int = 0
    public var columns: [ColumnReport]
    /// Label counts by class name.
    public var labelDistribution: [String: Int] = [:]
    /// Columns in the file that the schema does not name (not read).
    public var ignoredColumns: [String] = []
    /// The first issues (at most ``ValidationReport/issueLimit``).
    public var issues: [Issue] = []

    public static let issueLimit = 20

    enum CodingKeys: String, CodingKey {
        case file, columns, issues
        case rowsRead = "rows_read"
        case rowsAccepted = "rows_accepted"
        case rowsRejected = "rows_rejected"
        case rowsDropped = "rows_dropped"
        case labelDistribution = "label_distribution"
        case ignoredColumns = "ignored_columns"
    }

    public init(file: String, columns: [String]) {
        self.file = file
        self.columns = columns.map { ColumnReport(name: $0) }
    }

    mutating func note(_ error: DataError) {
        guard self.issues.count < Self.issueLimit else { return }
        self.issues.append(Issue(line: error.line ?? 0, column: error.column, code: error.code.description, message: error.message))
    }

    /// A short human-readable summary.
    public var summary: String {
        var s = "\(self.file): \(self.rowsRead) rows read, \(self.rowsAccepted) accepted"
        if self.rowsRejected > 0 { s += ", \(self.rowsRejected) rejected" }
        if self.rowsDropped > 0 { s += ", \(self.rowsDropped) dropped by policy" }
        let missing = self.columns.filter { $0.missing > 0 }.map { "\($0.name) \($0.missing)" }
        if !missing.isEmpty { s += "; missing: " + missing.joined(separator: ", ") }
        let oor = self.columns.filter { $0.outOfRange > 0 }.map { "\($0.name) \($0.outOfRange)" }
        if !oor.isEmpty { s += "; out of range: " + oor.joined(separator: ", ") }
        if !self.ignoredColumns.isEmpty { s += "; ignored columns: " + self.ignoredColumns.joined(separator: ", ") }
        return s
    }
}

/// How strictly rows are checked.
public enum ValidationPolicy: Sendable, Hashable {
    /// The first invalid row stops loading with an error naming file, line and column.
    case strict
    /// Invalid rows are rejected and reported; loading fails only if more than this fraction is rejected.
    case rejectRows(maximumFraction: Double)
}
