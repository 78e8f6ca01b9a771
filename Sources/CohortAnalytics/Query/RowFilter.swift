/// A row predicate of a ``StatisticsQuery``: comparisons of a column with a value, combined with `and` and `or`.
///
/// Written as text, e.g. `age >= 65 and (sex == female or admission_type == emergency)`. Operators: `==` (or `=`),
/// `!=`, `<`, `<=`, `>`, `>=`, and `is missing` / `is not missing`. `and` binds tighter than `or`; parentheses group.
/// Numeric columns compare with numbers; categorical and binary columns with `==` and `!=` against a declared
/// category (quote names with spaces: `"home care"`). A comparison with a missing value is false, so rows with a
/// missing value in a filtered column match only `is missing`.
public indirect enum RowFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `column op value`.
    case comparison(column: String, op: Operator, value: String)
    /// `column is missing` (or `is not missing` when `isMissing` is false).
    case missing(column: String, isMissing: Bool)
    case and([RowFilter])
    case or([RowFilter])

    /// Comparison operators.
    public enum Operator: String, Sendable, Hashable, Codable, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .equal: a == b
            case .notEqual: a != b
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            }
        }
    }

    /// Parses filter text.
    public static func parse(_ text: String) throws(AnalyticsError) -> RowFilter {
        var parser = FilterParser(text)
        return try parser.parseAll()
    }

    /// Every column the filter reads.
    public var columns: [String] {
        switch self {
        case .comparison(let c, _, _), .missing(let c, _): [c]
        case .and(let parts), .or(let parts): parts.flatMap(\.columns)
        }
    }

    public var description: String {
        func quoted(_ v: String) -> String {
            v.allSatisfy { $0.isLetter || $0.isNumber || "_.-+".contains($0) } && !v.isEmpty ? v : "\"\(v)\""
        }
        switch self {
        case .comparison(let c, let op, let v): return "\(c) \(op.rawValue) \(quoted(v))"
        case .missing(let c, let m): return "\(c) is \(m ? "" : "not ")missing"
        case .and(let parts): return parts.map { p in if case .or = p { "(\(p))" } else { p.description } }.joined(separator: " and ")
        case .or(let parts): return parts.map(\.description).joined(separator: " or ")
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try Self.parse(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self.description)
    }
}

/// A recursive-descent parser of filter text.
private struct FilterParser {
    enum Token: Equatable {
        case word(String)
        case quoted(String)
        case op(RowFilter.Operator)
        case open, close
    }

    var tokens: [Token] = []
    var position = 0
    let text: String
    var lexError: String?

    init(_ text: String) {
        self.text = text
        var chars = Array(text)[...]
        while let c = chars.first {
            if c.isWhitespace {
                chars.removeFirst()
            } else if c == "(" || c == ")" {
                self.tokens.append(c == "(" ? .open : .close)
                chars.removeFirst()
            } else if c == "\"" || c == "'" {
                chars.removeFirst()
                guard let end = chars.firstIndex(of: c) else {
                    self.lexError = "a quoted value is never closed"
                    return
                }
                self.tokens.append(.quoted(String(chars[..<end])))
                chars = chars[chars.index(after: end)...]
            } else if "<>=!".contains(c) {
                var s = String(c)
                chars.removeFirst()
                if chars.first == "=" {
                    s.append("=")
                    chars.removeFirst()
                }
                switch s {
                case "=", "==": self.tokens.append(.op(.equal))
                case "!=": self.tokens.append(.op(.notEqual))
                case "<": self.tokens.append(.op(.less))
                case "<=": self.tokens.append(.op(.lessOrEqual))
                case ">": self.tokens.append(.op(.greater))
                case ">=": self.tokens.append(.op(.greaterOrEqual))
                default:
                    self.lexError = "'\(s)' is not an operator; use ==, !=, <, <=, > or >="
                    return
                }
            } else {
                var s = ""
                while let d = chars.first, !d.isWhitespace, !"()<>=!\"'".contains(d) {
                    s.append(d)
                    chars.removeFirst()
                }
                self.tokens.append(.word(s))
            }
        }
    }

    func fail(_ what: String) -> AnalyticsError {
        AnalyticsError(.invalidFilter, "filter '\(self.text)': \(what) (write e.g. `age >= 65 and sex == female`)")
    }

    mutating func parseAll() throws(AnalyticsError) -> RowFilter {
        if let e = self.lexError { throw self.fail(e) }
        guard !self.tokens.isEmpty else { throw self.fail("the filter is empty") }
        let f = try self.parseOr()
        guard self.position == self.tokens.count else { throw self.fail("unexpected text after a complete condition") }
        return f
    }

    func keyword(_ t: Token?, _ k: String) -> Bool {
        if case .word(let w) = t { return w.lowercased() == k }
        return false
    }

    var current: Token? { self.position < self.tokens.count ? self.tokens[self.position] : nil }

    mutating func parseOr() throws(AnalyticsError) -> RowFilter {
        var parts = [try self.parseAnd()]
        while self.keyword(self.current, "or") {
            self.position += 1
            parts.append(try self.parseAnd())
        }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func parseAnd() throws(AnalyticsError) -> RowFilter {
        var parts = [try self.parsePrimary()]
        while self.keyword(self.current, "and") {
            self.position += 1
            parts.append(try self.parsePrimary())
        }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    mutating func parsePrimary() throws(AnalyticsError) -> RowFilter {
        guard let t = self.current else { throw self.fail("a condition is missing at the end") }
        if t == .open {
            self.position += 1
            let inner = try self.parseOr()
            guard self.current == .close else { throw self.fail("a parenthesis is never closed") }
            self.position += 1
            return inner
        }
        guard case .word(let column) = t, !["and", "or"].contains(column.lowercased()) else {
            throw self.fail("expected a column name")
        }
        self.position += 1
        if self.keyword(self.current, "is") {
            self.position += 1
            var isMissing = true
            if self.keyword(self.current, "not") {
                isMissing = false
                self.position += 1
            }
            guard self.keyword(self.current, "missing") else { throw self.fail("expected `is missing` or `is not missing`") }
            self.position += 1
            return .missing(column: column, isMissing: isMissing)
        }
        guard case .op(let op) = self.current else { throw self.fail("expected an operator after '\(column)'") }
        self.position += 1
        switch self.current {
        case .word(let v), .quoted(let v):
            self.position += 1
            return .comparison(column: column, op: op, value: v)
        default:
            throw self.fail("expected a value after '\(column) \(op.rawValue)'")
        }
    }
}
