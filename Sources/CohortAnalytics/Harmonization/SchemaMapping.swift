public import Foundation

/// How one site's raw CSV maps onto the job's schema: column renames, category recodes, unit conversions, extra
/// missing-value markers and dropped columns. Applied to raw cells before validation (``SchemaMapper``).
///
/// ```yaml
/// rename:                  # file column: schema column
///   Cholesterol: chol
///   SEX: sex
/// recode:                  # schema column: {file value: schema category}
///   sex: {M: male, F: female}
/// convert:                 # schema column: UnitConversion
///   chol: {from: mmol/L, to: mg/dL, analyte: cholesterol}
///   temp: {from: degF, to: degC}
/// missing:                 # schema column: values that mean "not recorded"
///   chol: ["0"]
/// drop: [internal_ref]     # file columns to remove
/// ```
/// Steps run in this order: drop, rename, missing markers, recode, convert.
public struct SchemaMapping: Sendable, Hashable, Codable {
    public var rename: [String: String]
    public var recode: [String: [String: String]]
    public var convert: [String: UnitConversion]
    public var missing: [String: [String]]
    public var drop: [String]

    public init(rename: [String: String] = [:], recode: [String: [String: String]] = [:], convert: [String: UnitConversion] = [:],
                missing: [String: [String]] = [:], drop: [String] = []) {
        self.rename = rename
        self.recode = recode
        self.convert = convert
        self.missing = missing
        self.drop = drop
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.rename = try c.decodeIfPresent([String: String].self, forKey: .rename) ?? [:]
        self.recode = try c.decodeIfPresent([String: [String: String]].self, forKey: .recode) ?? [:]
        self.convert = try c.decodeIfPresent([String: UnitConversion].self, forKey: .convert) ?? [:]
        self.missing = try c.decodeIfPresent([String: [String]].self, forKey: .missing) ?? [:]
        self.drop = try c.decodeIfPresent([String].self, forKey: .drop) ?? []
    }

    /// No changes.
    public static let identity = SchemaMapping()

    /// Parses a mapping from YAML text.
    public static func parse(yaml: String, source: String = "mapping") throws(AnalyticsError) -> SchemaMapping {
        try YAMLFile.decode(SchemaMapping.self, from: yaml, source: source, code: .invalidMapping,
                            expected: "expected keys rename, recode, convert, missing, drop")
    }

    /// Loads a mapping file.
    public static func load(from url: URL) throws(AnalyticsError) -> SchemaMapping {
        try Self.parse(yaml: YAMLFile.read(url, what: "mapping file"), source: url.path)
    }
}

/// What still differs between a site's mapped data and the job's schema.
public struct SchemaDifferences: Sendable, Hashable, Codable {
    /// Schema columns the file lacks, each with a likely match among the file's columns if one exists.
    public var missingColumns: [MissingColumn]
    /// File columns the schema does not name (they are ignored when loading).
    public var unexpectedColumns: [String]
    /// Per column, values that are not declared categories, with counts.
    public var unknownCategories: [String: [String: Int]]
    /// Per numeric column, cells that are not numbers.
    public var invalidNumbers: [String: Int]
    /// Unit problems: conversions into a unit the schema does not use, or values mostly outside the declared
    /// range in a way a known conversion would fix.
    public var units: [String]
    /// Mapping entries that name columns or values that do not exist.
    public var mapping: [String]
    /// Per column with unknown categories or invalid numbers, the file line (1-based, header = 1) of the first one.
    public var firstLines: [String: Int]

    /// A schema column the file lacks.
    public struct MissingColumn: Sendable, Hashable, Codable {
        public var column: String
        /// A file column with a similar name (case, spaces and punctuation ignored).
        public var candidate: String?
    }

    public init() {
        self.missingColumns = []
        self.unexpectedColumns = []
        self.unknownCategories = [:]
        self.invalidNumbers = [:]
        self.units = []
        self.mapping = []
        self.firstLines = [:]
    }

    /// Whether loading would fail or silently mis-read values (unexpected columns alone are harmless).
    public var isBlocking: Bool {
        !self.missingColumns.isEmpty || !self.unknownCategories.isEmpty || !self.invalidNumbers.isEmpty
            || !self.units.isEmpty || !self.mapping.isEmpty
    }

    /// One line per difference.
    public var lines: [String] {
        var out = [String]()
        for m in self.missingColumns {
            out.append("missing column '\(m.column)'" + (m.candidate.map { " (the file has '\($0)': add `rename: {\($0): \(m.column)}`)" } ?? ""))
        }
        if !self.unexpectedColumns.isEmpty { out.append("unexpected columns: \(self.unexpectedColumns.joined(separator: ", "))") }
        for (column, values) in self.unknownCategories.sorted(by: { $0.key < $1.key }) {
            let list = values.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "'\($0.key)' x\($0.value)" }
            out.append("column '\(column)': unknown categories \(list.joined(separator: ", "))\(self.at(column)) (add `recode: {\(column): {VALUE: CATEGORY}}`)")
        }
        for (column, n) in self.invalidNumbers.sorted(by: { $0.key < $1.key }) {
            out.append("column '\(column)': \(n) cells are not numbers\(self.at(column)) (add them under `missing:` if they mean not recorded)")
        }
        out += self.units
        out += self.mapping
        return out
    }

    func at(_ column: String) -> String { self.firstLines[column].map { ", first at line \($0)" } ?? "" }
}
