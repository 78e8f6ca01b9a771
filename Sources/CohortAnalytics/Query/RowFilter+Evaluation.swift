public import CohortData

extension RowFilter {
    /// Checks that every column exists and every value fits its column's type.
    public func validate(against schema: DatasetSchema) throws(AnalyticsError) {
        switch self {
        case .and(let parts), .or(let parts):
            for p in parts { try p.validate(against: schema) }
        case .missing(let column, _):
            _ = try Self.spec(column, schema)
        case .comparison(let column, let op, let value):
            let spec = try Self.spec(column, schema)
            switch spec.type {
            case .numeric:
                guard Double(value)?.isFinite == true else {
                    throw AnalyticsError(.invalidFilter, "filter: column '\(column)' is numeric, so compare it with a number, not '\(value)'")
                }
            case .categorical, .binary:
                guard op == .equal || op == .notEqual else {
                    throw AnalyticsError(.invalidFilter, "filter: column '\(column)' is \(spec.type.rawValue); compare it with == or !=, not \(op.rawValue)")
                }
                guard Self.level(of: value, in: spec) != nil else {
                    throw AnalyticsError(.invalidFilter, "filter: '\(value)' is not a category of '\(column)'; use one of \(spec.levels.joined(separator: ", "))")
                }
            }
        }
    }

    static func spec(_ column: String, _ schema: DatasetSchema) throws(AnalyticsError) -> ColumnSpec {
        guard let spec = schema.column(named: column) else {
            throw AnalyticsError(.unknownColumn, "filter: the schema has no column '\(column)'; columns: \(schema.columns.map(\.name).joined(separator: ", "))")
        }
        guard spec.role != .id && spec.role != .ignore else {
            throw AnalyticsError(.invalidFilter, "filter: column '\(column)' is an \(spec.role.rawValue) column and cannot be filtered on")
        }
        return spec
    }

    /// The level index a filter value names (binary columns without categories also accept 0/1).
    static func level(of value: String, in spec: ColumnSpec) -> Int32? {
        if let i = spec.levels.firstIndex(of: value) { return Int32(i) }
        if spec.type == .binary && spec.categories == nil, let v = Double(value), v == 0 || v == 1 { return v == 1 ? 1 : 0 }
        return nil
    }

    /// Whether each row of a table matches (the filter must have been validated against the table's schema).
    public func matches(_ table: Table) -> [Bool] {
        let n = table.rowCount
        switch self {
        case .and(let parts):
            var mask = [Bool](repeating: true, count: n)
            for p in parts {
                let m = p.matches(table)
                for i in 0..<n where !m[i] { mask[i] = false }
            }
            return mask
        case .or(let parts):
            var mask = [Bool](repeating: false, count: n)
            for p in parts {
                let m = p.matches(table)
                for i in 0..<n where m[i] { mask[i] = true }
            }
            return mask
        case .missing(let column, let isMissing):
            switch table.values(of: column) {
            case .numeric(let v): return v.map { $0.isNaN == isMissing }
            case .categorical(let v): return v.map { ($0 < 0) == isMissing }
            default: return [Bool](repeating: false, count: n)
            }
        case .comparison(let column, let op, let value):
            switch table.values(of: column) {
            case .numeric(let v):
                let b = Double(value) ?? .nan
                return v.map { !$0.isNaN && op.holds($0, b) }
            case .categorical(let v):
                guard let spec = table.schema.column(named: column), let level = Self.level(of: value, in: spec) else {
                    return [Bool](repeating: false, count: n)
                }
                return v.map { $0 >= 0 && (op == .equal ? $0 == level : $0 != level) }
            default:
                return [Bool](repeating: false, count: n)
            }
        }
    }
}
