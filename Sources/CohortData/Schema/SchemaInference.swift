public import Foundation

/// Infers a ``DatasetSchema`` from CSV files that share a header, and says what it inferred.
public enum SchemaInference {
    /// An inferred schema and one note per column explaining the choice.
    public struct Result: Sendable {
        public var schema: DatasetSchema
        public var notes: [String]
    }

    /// The most distinct text values a column may have and still be read as categorical.
    public static let maximumCategories = 30

    /// Infers a schema from files (all must have the same header).
    ///
    /// Numeric columns whose values are all 0 or 1 become binary; other numeric columns numeric; text columns with
    /// at most ``maximumCategories`` distinct values categorical (levels sorted); other text columns are ignored
    /// (they look like identifiers or free text). The column named `label` is the label.
    public static func infer(files: [URL], label: String, displayNames: [String]? = nil) throws(DataError) -> Result {
        var header: [String]?
        var values: [[String]] = []
        var headerSource = ""
        for (fi, url) in files.enumerated() {
            let name = displayNames?[fi] ?? url.path
            let bytes: [UInt8]
            do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
                throw DataError(.io, file: name, "cannot read the file: \(error.localizedDescription)")
            }
            let records = try CSVParser.parse(bytes, file: name)
            guard let first = records.first else { throw DataError(.emptyFile, file: name, line: 1, "the file is empty") }
            if let h = header {
                guard h == first.fields else {
                    throw DataError(.federation, file: name, line: 1,
                                    "the header differs from \(headerSource)",
                                    hint: "all sites must have the same columns; expected \(h.joined(separator: ","))")
                }
            } else {
                header = first.fields
                headerSource = name
                values = Array(repeating: [], count: first.fields.count)
            }
            for r in records.dropFirst() {
                guard r.fields.count == first.fields.count else {
                    throw DataError(.fieldCount, file: name, line: r.line,
                                    "the row has \(r.fields.count) fields, the header has \(first.fields.count)")
                }
                for (i, f) in r.fields.enumerated() { values[i].append(f) }
            }
        }
        guard let header, !values.isEmpty, !values[0].isEmpty else {
            throw DataError(.noRows, file: headerSource, "no data rows to infer a schema from")
        }
        guard header.contains(label) else {
            throw DataError(.missingColumn, file: headerSource, line: 1, column: label,
                            "there is no label column with this name",
                            hint: "pass --label NAME; columns: \(header.joined(separator: ", "))")
        }
        let markers = Set(ColumnSpec.defaultMissingMarkers)
        var columns = [ColumnSpec]()
        var notes = [String]()
        for (i, name) in header.enumerated() {
            let present = values[i].filter { !markers.contains($0) }
            let missing = values[i].count - present.count
            let numbers = present.compactMap { Double($0) }.filter(\.isFinite)
            let isLabel = name == label
            let missingNote = missing > 0 ? ", \(missing) missing" : ""
            if numbers.count == present.count && !present.isEmpty {
                let distinct = Set(numbers)
                if distinct.isSubset(of: [0, 1]) {
                    columns.append(ColumnSpec(name: name, type: .binary, role: isLabel ? .label : .feature))
                    notes.append("\(name): binary (values 0/1\(missingNote))")
                } else if isLabel {
                    guard distinct.count <= maximumCategories else {
                        throw DataError(.schema, file: headerSource, column: name,
                                        "the label has \(distinct.count) distinct numeric values; Cohort trains classifiers",
                                        hint: "use a binary or categorical label")
                    }
                    let levels = Set(present).sorted { Double($0)! < Double($1)! }
                    columns.append(ColumnSpec(name: name, type: .categorical, role: .label, categories: levels))
                    notes.append("\(name): categorical label with classes \(levels.joined(separator: ", "))")
                } else {
                    let lo = distinct.min()!, hi = distinct.max()!
                    columns.append(ColumnSpec(name: name, type: .numeric))
                    notes.append("\(name): numeric (\(Self.format(lo))...\(Self.format(hi))\(missingNote))")
                }
            } else {
                let distinct = Set(present)
                if distinct.count <= maximumCategories && (distinct.count < present.count / 2 || isLabel) {
                    let levels = distinct.sorted()
                    if levels.count == 2 && !isLabel {
                        columns.append(ColumnSpec(name: name, type: .binary, categories: levels))
                        notes.append("\(name): binary (\(levels[0]) = 0, \(levels[1]) = 1\(missingNote))")
                    } else {
                        columns.append(ColumnSpec(name: name, type: .categorical, role: isLabel ? .label : .feature, categories: levels))
                        notes.append("\(name): categorical, \(levels.count) levels (\(levels.prefix(8).joined(separator: ", "))\(levels.count > 8 ? ", ..." : ""))\(missingNote)")
                    }
                } else if isLabel {
                    throw DataError(.schema, file: headerSource, column: name,
                                    "the label has \(distinct.count) distinct text values, too many for a classifier")
                } else {
                    columns.append(ColumnSpec(name: name, type: .categorical, role: .ignore, categories: nil))
                    notes.append("\(name): ignored (\(distinct.count) distinct text values; looks like an identifier or free text)")
                }
            }
        }
        // An ignored column needs no categories; give it a placeholder type that validation accepts.
        for i in columns.indices where columns[i].role == .ignore {
            columns[i].type = .numeric
        }
        let schema = DatasetSchema(name: "inferred", columns: columns)
        try schema.validate(source: headerSource)
        return Result(schema: schema, notes: notes)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.4g", v)
    }
}
