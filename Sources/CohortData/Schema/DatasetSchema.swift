public import Foundation
import Yams

/// The declared shape of a tabular data set: its columns, their types, roles, allowed values and missing markers.
///
/// Schemas are written in YAML:
/// ```yaml
/// name: readmission
/// columns:
///   - name: age
///     type: numeric          # numeric | categorical | binary
///     role: feature          # feature | label | id | ignore (default: feature)
///     range: [18, 110]       # optional, numeric only
///     unit: years            # optional, documentation
///     missing: ["", NA, "?"] # optional, markers that mean "missing" (this is the default)
///     on_missing: impute     # impute | drop | error (default: impute; labels always error)
///   - name: sex
///     type: categorical
///     categories: [female, male]
///   - name: readmitted_30d
///     type: binary           # values 0/1, or two declared categories (negative first)
///     role: label
/// ```
public struct DatasetSchema: Sendable, Hashable, Codable {
    public var name: String?
    /// Whether CSV files start with a header row (default true). Without one, columns are read in schema order.
    public var header: Bool?
    /// Field delimiter (default ",").
    public var delimiter: String?
    public var columns: [ColumnSpec]

    public init(name: String? = nil, header: Bool? = nil, delimiter: String? = nil, columns: [ColumnSpec]) {
        self.name = name
        self.header = header
        self.delimiter = delimiter
        self.columns = columns
    }

    /// The label column.
    public var labelColumn: ColumnSpec? { self.columns.first { $0.role == .label } }

    /// Feature columns, in schema order.
    public var featureColumns: [ColumnSpec] { self.columns.filter { $0.role == .feature } }

    /// The column with a name.
    public func column(named name: String) -> ColumnSpec? { self.columns.first { $0.name == name } }

    /// Whether files have a header row.
    public var hasHeader: Bool { self.header ?? true }

    /// The delimiter byte.
    public var delimiterByte: UInt8 { self.delimiter?.utf8.first ?? UInt8(ascii: ",") }

    /// Makes `name` the label (and turns a previous label into a feature).
    public mutating func setLabel(_ name: String) throws(DataError) {
        guard let i = self.columns.firstIndex(where: { $0.name == name }) else {
            throw DataError(.missingColumn, column: name, "the schema has no column named '\(name)'",
                            hint: "columns: \(self.columns.map(\.name).joined(separator: ", "))")
        }
        for j in self.columns.indices where self.columns[j].role == .label { self.columns[j].role = .feature }
        self.columns[i].role = .label
    }

    /// Checks internal consistency: unique names, exactly one label, categories where needed, sane ranges.
    public func validate(source: String) throws(DataError) {
        var seen = Set<String>()
        for c in self.columns {
            guard !c.name.isEmpty else { throw DataError(.schema, file: source, "a column has an empty name") }
            guard seen.insert(c.name).inserted else {
                throw DataError(.duplicateColumn, file: source, column: c.name, "column is declared twice")
            }
            if c.type == .categorical && (c.categories ?? []).isEmpty {
                throw DataError(.schema, file: source, column: c.name, "categorical column declares no categories",
                                hint: "add `categories: [a, b, ...]`")
            }
            if c.type == .binary, let cats = c.categories, cats.count != 2 {
                throw DataError(.schema, file: source, column: c.name,
                                "binary column declares \(cats.count) categories; it needs exactly two (negative first)")
            }
            if let r = c.range {
                guard r.count == 2, r[0] <= r[1] else {
                    throw DataError(.schema, file: source, column: c.name, "range must be [min, max] with min <= max")
                }
            }
        }
        let labels = self.columns.filter { $0.role == .label }
        guard labels.count == 1 else {
            throw DataError(.schema, file: source,
                            labels.isEmpty ? "no column has role label" : "\(labels.count) columns have role label",
                            hint: "mark exactly one column `role: label`, or pass --label NAME")
        }
        if labels[0].type == .numeric {
            throw DataError(.schema, file: source, column: labels[0].name,
                            "the label must be binary or categorical, not numeric")
        }
        guard !self.featureColumns.isEmpty else {
            throw DataError(.schema, file: source, "the schema has no feature columns")
        }
    }

    /// Parses a schema from YAML text.
    public static func parse(yaml: String, source: String) throws(DataError) -> DatasetSchema {
        do {
            let schema = try YAMLDecoder().decode(DatasetSchema.self, from: yaml)
            try schema.validate(source: source)
            return schema
        } catch let e as DataError {
            throw e
        } catch let e as DecodingError {
            throw DataError(.schema, file: source, Self.describe(e))
        } catch {
            throw DataError(.schema, file: source, "not valid YAML: \(error)")
        }
    }

    /// Loads a schema file.
    public static func load(from url: URL) throws(DataError) -> DatasetSchema {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DataError(.io, file: url.path, "cannot read the schema file: \(error.localizedDescription)")
        }
        return try Self.parse(yaml: text, source: url.path)
    }

    /// YAML text of this schema.
    public func yaml() -> String {
        (try? YAMLEncoder().encode(self)) ?? ""
    }

    public static func describe(_ error: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            let at = path(ctx.codingPath)
            return "missing key '\(key.stringValue)'" + (at.isEmpty ? "" : " at \(at)")
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "wrong value at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case .dataCorrupted(let ctx):
            let at = path(ctx.codingPath)
            return (at.isEmpty ? "" : "at \(at): ") + ctx.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

/// One column of a ``DatasetSchema``.
public struct ColumnSpec: Sendable, Hashable, Codable {
    /// Value types.
    public enum ValueType: String, Sendable, Hashable, Codable, CaseIterable {
        case numeric, categorical, binary
    }

    /// What a column is for.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case feature, label, id, ignore
    }

    /// What to do with a missing value.
    public enum MissingPolicy: String, Sendable, Hashable, Codable, CaseIterable {
        /// Numeric: the training mean; categorical: no category set (all one-hot zeros).
        case impute
        /// Drop the row (counted in the report).
        case drop
        /// Stop with an error naming the line.
        case error
    }

    public var name: String
    public var type: ValueType
    public var role: Role
    public var range: [Double]?
    public var categories: [String]?
    public var missing: [String]?
    public var onMissing: MissingPolicy?
    /// What to do with a numeric value outside `range` (default: error).
    public var onOutOfRange: OutOfRangePolicy?
    public var unit: String?
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case name, type, role, range, categories, missing, unit, description
        case onMissing = "on_missing"
        case onOutOfRange = "on_out_of_range"
    }

    public init(name: String, type: ValueType, role: Role = .feature, range: [Double]? = nil, categories: [String]? = nil,
                missing: [String]? = nil, onMissing: MissingPolicy? = nil, unit: String? = nil, description: String? = nil) {
        self.name = name
        self.type = type
        self.role = role
        self.range = range
        self.categories = categories
        self.missing = missing
        self.onMissing = onMissing
        self.unit = unit
        self.description = description
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.type = try c.decode(ValueType.self, forKey: .type)
        self.role = try c.decodeIfPresent(Role.self, forKey: .role) ?? .feature
        self.range = try c.decodeIfPresent([Double].self, forKey: .range)
        self.categories = try c.decodeIfPresent([String].self, forKey: .categories)
        self.missing = try c.decodeIfPresent([String].self, forKey: .missing)
        self.onMissing = try c.decodeIfPresent(MissingPolicy.self, forKey: .onMissing)
        self.onOutOfRange = try c.decodeIfPresent(OutOfRangePolicy.self, forKey: .onOutOfRange)
        self.unit = try c.decodeIfPresent(String.self, forKey: .unit)
        self.description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    /// What to do with a value outside the declared range.
    public enum OutOfRangePolicy: String, Sendable, Hashable, Codable, CaseIterable {
        /// Stop with an error naming the line (or reject the row, in lenient mode).
        case error
        /// Treat it as missing (then `on_missing` applies), e.g. cholesterol recorded as 0.
        case missing
        /// Drop the row (counted in the report).
        case drop
    }

    /// Default missing-value markers.
    public static let defaultMissingMarkers = ["", "NA", "?", "NaN", "nan", "N/A", "null"]

    /// The markers that mean missing for this column.
    public var missingMarkers: [String] { self.missing ?? Self.defaultMissingMarkers }

    /// Effective missing-value policy.
    public var missingPolicy: MissingPolicy { self.role == .label ? .error : (self.onMissing ?? .impute) }

    /// Category names in class-index order (binary without declared categories: "0", "1").
    public var levels: [String] {
        switch self.type {
        case .numeric: []
        case .binary: self.categories ?? ["0", "1"]
        case .categorical: self.categories ?? []
        }
    }
}
