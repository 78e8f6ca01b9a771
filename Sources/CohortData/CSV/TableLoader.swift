public import Foundation

/// Reads CSV files into ``Table``s, checking every row against a ``DatasetSchema``.
public enum TableLoader {
    /// Loads and validates a CSV file.
    public static func load(
        _ url: URL, schema: DatasetSchema, policy: ValidationPolicy = .strict, displayName: String? = nil
    ) throws(DataError) -> (table: Table, report: ValidationReport) {
        let name = displayName ?? url.path
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw DataError(.io, file: name, "cannot read the file: \(error.localizedDescription)",
                            hint: "check the path and permissions")
        }
        return try self.load(bytes: bytes, source: name, schema: schema, policy: policy)
    }

    /// Loads and validates CSV bytes.
    public static func load(
        bytes: [UInt8], source: String, schema: DatasetSchema, policy: ValidationPolicy = .strict
    ) throws(DataError) -> (table: Table, report: ValidationReport) {
        try schema.validate(source: source)
        let records = try CSVParser.parse(bytes, delimiter: schema.delimiterByte, file: source)
        guard let first = records.first else {
            throw DataError(.emptyFile, file: source, line: 1, "the file is empty",
                            hint: schema.hasHeader ? "expected a header row and data rows" : "expected data rows")
        }
        // Map schema columns to file positions.
        let header: [String]
        var dataRecords = records[...]
        if schema.hasHeader {
            header = first.fields
            dataRecords = records.dropFirst()
            var seen = Set<String>()
            for h in header where !seen.insert(h).inserted {
                throw DataError(.duplicateColumn, file: source, line: first.line, column: h, "the header names this column twice")
            }
        } else {
            header = schema.columns.map(\.name)
        }
        var position = [Int]()
        for c in schema.columns {
            guard let p = header.firstIndex(of: c.name) else {
                throw DataError(.missingColumn, file: source, line: 1, column: c.name,
                                "the schema names this column but the file's header does not have it",
                                hint: "header columns: \(header.joined(separator: ", "))")
            }
            position.append(p)
        }
        guard !dataRecords.isEmpty else {
            throw DataError(.noRows, file: source, line: first.line + 1, "the file has a header but no data rows")
        }
        var report = ValidationReport(file: source, columns: schema.columns.map(\.name))
        report.ignoredColumns = header.filter { h in !schema.columns.contains { $0.name == h } }

        var builders: [ColumnBuilder] = schema.columns.map { ColumnBuilder(spec: $0, capacity: dataRecords.count) }
        var lines = [Int]()
        lines.reserveCapacity(dataRecords.count)
        var row = [Parsed](repeating: .missing, count: schema.columns.count)
        let labelIndex = schema.columns.firstIndex { $0.role == .label }!

        recordLoop: for record in dataRecords {
            report.rowsRead += 1
            var rowError: DataError?
            var drop = false
            if record.fields.count != header.count {
                rowError = DataError(.fieldCount, file: source, line: record.line,
                                     "the row has \(record.fields.count) fields, the header has \(header.count)",
                                     hint: "check for an unquoted delimiter or a missing value")
            } else {
                for (ci, spec) in schema.columns.enumerated() {
                    let raw = record.fields[position[ci]]
                    switch builders[ci].parse(raw, line: record.line, file: source, report: &report.columns[ci]) {
                    case .success(let v):
                        row[ci] = v
                        if case .missing = v {
                            if ci == labelIndex {
                                rowError = DataError(.missingLabel, file: source, line: record.line, column: spec.name,
                                                     "the label is missing", hint: "rows without a label cannot be used for training; remove them or fill them in")
                            } else if spec.missingPolicy == .error {
                                rowError = DataError(.missingValue, file: source, line: record.line, column: spec.name,
                                                     "the value is missing and the schema says on_missing: error")
                            } else if spec.missingPolicy == .drop {
                                drop = true
                            }
                        }
                        if case .dropRow = v { drop = true }
                    case .failure(let e):
                        rowError = e
                    }
                    if rowError != nil { break }
                }
            }
            if let rowError {
                switch policy {
                case .strict:
                    throw rowError
                case .rejectRows:
                    report.rowsRejected += 1
                    report.note(rowError)
                    continue recordLoop
                }
            }
            if drop {
                report.rowsDropped += 1
                continue recordLoop
            }
            for ci in row.indices { builders[ci].append(row[ci]) }
            lines.append(record.line)
            report.rowsAccepted += 1
        }
        if case .rejectRows(let maxFraction) = policy,
           Double(report.rowsRejected) > maxFraction * Double(max(1, report.rowsRead))
        {
            throw DataError(.tooManyRejected, file: source,
                            "\(report.rowsRejected) of \(report.rowsRead) rows are invalid, more than the allowed \(Int(maxFraction * 100))%; first: \(report.issues.first.map { "line \($0.line): \($0.message)" } ?? "")")
        }
        guard report.rowsAccepted > 0 else {
            throw DataError(.noRows, file: source, "no valid rows remain after validation",
                            hint: report.issues.first.map { "first problem, line \($0.line): \($0.message)" })
        }
        let labelSpec = schema.columns[labelIndex]
        let table = Table(schema: schema, source: source, columns: builders.map { $0.finish() }, lines: lines)
        for l in table.labels {
            report.labelDistribution[labelSpec.levels[Int(l)], default: 0] += 1
        }
        return (table, report)
    }

    enum Parsed {
        case number(Double)
        case category(Int32)
        case text(String)
        case missing
        case dropRow
    }

    struct ColumnBuilder {
        let spec: ColumnSpec
        let markers: Set<String>
        let levelIndex: [String: Int32]
        var numbers: [Double] = []
        var categories: [Int32] = []
        var texts: [String] = []

        init(spec: ColumnSpec, capacity: Int) {
            self.spec = spec
            self.markers = Set(spec.missingMarkers)
            var idx = [String: Int32]()
            for (i, l) in spec.levels.enumerated() { idx[l] = Int32(i) }
            self.levelIndex = idx
            switch (spec.role, spec.type) {
            case (.id, _), (.ignore, _): self.texts.reserveCapacity(capacity)
            case (_, .numeric): self.numbers.reserveCapacity(capacity)
            default: self.categories.reserveCapacity(capacity)
            }
        }

        var isText: Bool { self.spec.role == .id || self.spec.role == .ignore }

        func parse(_ raw: String, line: Int, file: String, report: inout ValidationReport.ColumnReport) -> Result<Parsed, DataError> {
            if self.isText { return .success(.text(raw)) }
            if self.markers.contains(raw) {
                report.missing += 1
                return .success(.missing)
            }
            switch self.spec.type {
            case .numeric:
                guard let v = Double(raw), v.isFinite else {
                    report.invalid += 1
                    return .failure(DataError(.notANumber, file: file, line: line, column: self.spec.name,
                                              "'\(Self.clip(raw))' is not a number",
                                              hint: "use a plain decimal number, or one of the missing markers \(self.spec.missingMarkers.filter { !$0.isEmpty })"))
                }
                report.minimum = min(report.minimum ?? v, v)
                report.maximum = max(report.maximum ?? v, v)
                if let r = self.spec.range, v < r[0] || v > r[1] {
                    report.outOfRange += 1
                    switch self.spec.onOutOfRange ?? .error {
                    case .error:
                        return .failure(DataError(.outOfRange, file: file, line: line, column: self.spec.name,
                                                  "\(raw) is outside the allowed range [\(r[0]), \(r[1])]",
                                                  hint: "fix the value, widen the range, or set on_out_of_range: missing"))
                    case .missing:
                        report.missing += 1
                        return .success(.missing)
                    case .drop:
                        return .success(.dropRow)
                    }
                }
                return .success(.number(v))
            case .categorical, .binary:
                if let i = self.levelIndex[raw] { return .success(.category(i)) }
                if self.spec.type == .binary && self.spec.categories == nil {
                    if let v = Double(raw), v == 0 || v == 1 { return .success(.category(v == 1 ? 1 : 0)) }
                    switch raw.lowercased() {
                    case "true", "yes": return .success(.category(1))
                    case "false", "no": return .success(.category(0))
                    default: break
                    }
                    report.invalid += 1
                    return .failure(DataError(.unknownCategory, file: file, line: line, column: self.spec.name,
                                              "'\(Self.clip(raw))' is not a binary value", hint: "use 0/1 or true/false"))
                }
                report.unknownCategories[raw, default: 0] += 1
                return .failure(DataError(.unknownCategory, file: file, line: line, column: self.spec.name,
                                          "unknown category '\(Self.clip(raw))'",
                                          hint: "allowed: \(self.spec.levels.joined(separator: ", ")); add it to the schema or map it"))
            }
        }

        mutating func append(_ v: Parsed) {
            if self.isText {
                if case .text(let s) = v { self.texts.append(s) } else { self.texts.append("") }
                return
            }
            switch (self.spec.type, v) {
            case (.numeric, .number(let d)): self.numbers.append(d)
            case (.numeric, _): self.numbers.append(.nan)
            case (_, .category(let c)): self.categories.append(c)
            default: self.categories.append(-1)
            }
        }

        func finish() -> Table.Values {
            if self.isText { return .text(self.texts) }
            return self.spec.type == .numeric ? .numeric(self.numbers) : .categorical(self.categories)
        }

        static func clip(_ s: String) -> String { s.count > 40 ? String(s.prefix(40)) + "..." : s }
    }
}
