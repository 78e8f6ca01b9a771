/// Validated, typed data: one value array per schema column, rows in file order.
public struct Table: Sendable {
    /// Values of one column. Missing numbers are NaN; missing categories are -1.
    public enum Values: Sendable, Hashable {
        case numeric([Double])
        /// Index into the column's ``ColumnSpec/levels``.
        case categorical([Int32])
        /// Identifier or ignored columns, kept as text.
        case text([String])
    }

    public var schema: DatasetSchema
    /// Where the rows came from (file path or a description).
    public var source: String
    /// Aligned with `schema.columns`.
    public var columns: [Values]
    /// Source line of each row.
    public var lines: [Int]

    public init(schema: DatasetSchema, source: String, columns: [Values], lines: [Int]) {
        self.schema = schema
        self.source = source
        self.columns = columns
        self.lines = lines
    }

    /// Number of rows.
    public var rowCount: Int { self.lines.count }

    /// Index of the label column.
    public var labelIndex: Int { self.schema.columns.firstIndex { $0.role == .label }! }

    /// Label class indices.
    public var labels: [Int32] {
        guard case .categorical(let v) = self.columns[self.labelIndex] else { return [] }
        return v
    }

    /// The values of a named column.
    public func values(of name: String) -> Values? {
        self.schema.columns.firstIndex { $0.name == name }.map { self.columns[$0] }
    }

    /// The rows at the given indices, in that order.
    public func rows(_ indices: [Int]) -> Table {
        let cols: [Values] = self.columns.map { v in
            switch v {
            case .numeric(let a): .numeric(indices.map { a[$0] })
            case .categorical(let a): .categorical(indices.map { a[$0] })
            case .text(let a): .text(indices.map { a[$0] })
            }
        }
        return Table(schema: self.schema, source: self.source, columns: cols, lines: indices.map { self.lines[$0] })
    }

    /// Rows of several tables with the same schema, one after another.
    public static func concatenate(_ tables: [Table], source: String) -> Table? {
        guard let first = tables.first else { return nil }
        var cols = first.columns
        var lines = first.lines
        for t in tables.dropFirst() {
            precondition(t.schema.columns == first.schema.columns, "cannot concatenate tables with different schemas")
            lines += t.lines
            for (i, v) in t.columns.enumerated() {
                switch (cols[i], v) {
                case (.numeric(let a), .numeric(let b)): cols[i] = .numeric(a + b)
                case (.categorical(let a), .categorical(let b)): cols[i] = .categorical(a + b)
                case (.text(let a), .text(let b)): cols[i] = .text(a + b)
                default: preconditionFailure("column kinds differ")
                }
            }
        }
        return Table(schema: first.schema, source: source, columns: cols, lines: lines)
    }
}
