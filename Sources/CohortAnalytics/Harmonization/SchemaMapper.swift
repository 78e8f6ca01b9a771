public import CohortData

/// Applies a ``SchemaMapping`` to raw CSV bytes and checks the result against the job's schema, so that
/// `TableLoader` then validates data that uses the schema's names, categories and units.
///
/// ```swift
/// let mapped = try SchemaMapper.apply(mapping, to: bytes, schema: schema, source: "site-3.csv")
/// let (table, report) = try TableLoader.load(bytes: mapped.bytes, source: "site-3.csv", schema: schema)
/// ```
public enum SchemaMapper {
    /// Mapped CSV and what the mapping did.
    public struct Result: Sendable, Hashable {
        /// CSV with the schema's column names (header row first), ready for `TableLoader`.
        public var bytes: [UInt8]
        public var recodedCells: Int
        public var convertedCells: Int
        /// Cells that became missing through the mapping's `missing:` markers.
        public var cellsMarkedMissing: Int
        /// File columns the schema does not name (kept; the loader ignores them).
        public var unexpectedColumns: [String]
    }

    /// Maps CSV bytes, or throws a ``AnalyticsError/Code/schemaMismatch`` error whose ``SchemaDifferences`` say
    /// precisely what still differs.
    public static func apply(_ mapping: SchemaMapping, to bytes: [UInt8], schema: DatasetSchema, source: String) throws(AnalyticsError) -> Result {
        let records: [CSVParser.Record]
        do { records = try CSVParser.parse(bytes, delimiter: schema.delimiterByte, file: source) } catch {
            throw AnalyticsError(.schemaMismatch, "\(source): \(error.description)")
        }
        guard schema.hasHeader, let headerRecord = records.first else {
            throw AnalyticsError(.schemaMismatch, "\(source): a mapping needs a header row naming the columns")
        }
        var diff = SchemaDifferences()
        var header = headerRecord.fields
        for name in mapping.drop where !header.contains(name) { diff.mapping.append("drop: the file has no column '\(name)'") }
        let kept = header.indices.filter { !mapping.drop.contains(header[$0]) }
        header = kept.map { header[$0] }
        for (from, to) in mapping.rename.sorted(by: { $0.key < $1.key }) {
            guard let i = header.firstIndex(of: from) else {
                if !header.contains(to) { diff.mapping.append("rename: the file has no column '\(from)'") }
                continue
            }
            header[i] = to
        }
        var rows = records.dropFirst().map { r in kept.map { $0 < r.fields.count ? r.fields[$0] : "" } }
        let lines = records.dropFirst().map(\.line)
        var recoded = 0, converted = 0, markedMissing = 0
        for (ci, name) in header.enumerated() {
            guard let spec = schema.column(named: name), spec.role != .id, spec.role != .ignore else { continue }
            let markers = Set(spec.missingMarkers)
            let missingValue = spec.missingMarkers.first ?? ""
            let extraMissing = Set(mapping.missing[name] ?? [])
            let recode = mapping.recode[name] ?? [:]
            var linear: (scale: Double, offset: Double)?
            if let conv = mapping.convert[name] {
                guard spec.type == .numeric else {
                    throw AnalyticsError(.invalidMapping, "convert '\(name)': the schema declares it \(spec.type.rawValue), not numeric")
                }
                linear = try conv.linear(column: name)
                if let to = conv.to, let unit = spec.unit, UnitConversion.canonical(to) != UnitConversion.canonical(unit) {
                    diff.units.append("column '\(name)': the mapping converts to \(to) but the schema's unit is \(unit)")
                }
            }
            for r in rows.indices {
                var v = rows[r][ci]
                if extraMissing.contains(v) {
                    rows[r][ci] = missingValue
                    markedMissing += 1
                    continue
                }
                if markers.contains(v) { continue }
                if let mapped = recode[v] {
                    v = mapped
                    recoded += 1
                }
                if let (a, b) = linear, let x = Double(v), x.isFinite {
                    v = String(a * x + b)
                    converted += 1
                }
                rows[r][ci] = v
            }
        }
        try Self.check(header: header, rows: rows, lines: lines, schema: schema, mapping: mapping, into: &diff, source: source)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + 64)
        let delimiter = Character(UnicodeScalar(schema.delimiterByte))
        func line(_ fields: [String]) {
            out += Array(fields.map { CSVParser.escape($0, delimiter: delimiter) }.joined(separator: String(delimiter)).utf8)
            out.append(UInt8(ascii: "\n"))
        }
        line(header)
        for r in rows { line(r) }
        return Result(bytes: out, recodedCells: recoded, convertedCells: converted, cellsMarkedMissing: markedMissing,
                      unexpectedColumns: diff.unexpectedColumns)
    }

    /// Fills `diff` with what differs from the schema and throws when anything blocks loading.
    static func check(header: [String], rows: [[String]], lines: [Int], schema: DatasetSchema, mapping: SchemaMapping,
                      into diff: inout SchemaDifferences, source: String) throws(AnalyticsError) {
        let schemaNames = Set(schema.columns.map(\.name))
        diff.unexpectedColumns = header.filter { !schemaNames.contains($0) }
        func key(_ s: String) -> String { s.lowercased().filter { $0.isLetter || $0.isNumber } }
        for spec in schema.columns where !header.contains(spec.name) {
            let target = key(spec.name)
            func shared(_ other: String) -> Int { zip(key(other), target).prefix { $0 == $1 }.count }
            let candidate = diff.unexpectedColumns.first { key($0) == target }
                ?? diff.unexpectedColumns.filter { c in shared(c) >= max(3, Int((0.6 * Double(min(key(c).count, target.count))).rounded(.up))) }
                .max { shared($0) < shared($1) }
            diff.missingColumns.append(.init(column: spec.name, candidate: candidate))
        }
        for name in Set(mapping.recode.keys).union(mapping.convert.keys).union(mapping.missing.keys).sorted() where !header.contains(name) {
            diff.mapping.append("the mapping names column '\(name)', which the file does not have after renaming")
        }
        for (ci, name) in header.enumerated() {
            guard let spec = schema.column(named: name), spec.role != .id, spec.role != .ignore else { continue }
            let markers = Set(spec.missingMarkers)
            switch spec.type {
            case .categorical, .binary:
                let levels = Set(spec.levels)
                var unknown = [String: Int]()
                for (r, line) in zip(rows, lines) {
                    let v = r[ci]
                    if markers.contains(v) || levels.contains(v) { continue }
                    if spec.type == .binary && spec.categories == nil && ["0", "1", "true", "false", "yes", "no", "0.0", "1.0"].contains(v.lowercased()) { continue }
                    unknown[v, default: 0] += 1
                    if diff.firstLines[name] == nil { diff.firstLines[name] = line }
                }
                if !unknown.isEmpty { diff.unknownCategories[name] = unknown }
            case .numeric:
                var values = [Double]()
                var invalid = 0
                for (r, line) in zip(rows, lines) where !markers.contains(r[ci]) {
                    if let x = Double(r[ci]), x.isFinite { values.append(x) } else {
                        invalid += 1
                        if diff.firstLines[name] == nil { diff.firstLines[name] = line }
                    }
                }
                if invalid > 0 { diff.invalidNumbers[name] = invalid }
                if let problem = Self.unitProblem(name: name, values: values, spec: spec, mapping: mapping) { diff.units.append(problem) }
            }
        }
        guard diff.isBlocking else { return }
        throw AnalyticsError(.schemaMismatch, "\(source) does not match the schema after mapping:\n  - " + diff.lines.joined(separator: "\n  - "),
                             differences: diff)
    }

    /// A message when most values lie outside the declared range and a known conversion would bring them in.
    static func unitProblem(name: String, values: [Double], spec: ColumnSpec, mapping: SchemaMapping) -> String? {
        guard let range = spec.range, range.count == 2, !values.isEmpty else { return nil }
        let inRange = values.filter { $0 >= range[0] && $0 <= range[1] }.count
        guard Double(inRange) < 0.5 * Double(values.count) else { return nil }
        var message = "column '\(name)': \(values.count - inRange) of \(values.count) values are outside the declared range [\(range[0]), \(range[1])]\(spec.unit.map { " \($0)" } ?? "")"
        if let unit = spec.unit, mapping.convert[name] == nil {
            let analyte = UnitConversion.milligramsPerDecilitrePerMillimole.keys.first { name.lowercased().contains($0.prefix(4)) }
                ?? UnitConversion.micromolesPerMilligram.keys.first { name.lowercased().contains($0.prefix(4)) }
            let best = UnitConversion.candidates(into: unit, analyte: analyte).map { c in
                (c.from, values.filter { let y = c.scale * $0 + c.offset; return y >= range[0] && y <= range[1] }.count)
            }.max { $0.1 < $1.1 }
            if let (from, n) = best, n > inRange {
                message += "; they look like \(from) (converted, \(n) would be in range): add `convert: {\(name): {from: \(from), to: \(unit)\(analyte.map { ", analyte: \($0)" } ?? "")}}`"
            }
        }
        return message
    }
}
