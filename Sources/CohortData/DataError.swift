/// A problem with input data or its schema, located as precisely as possible.
///
/// The description reads `FILE:LINE: column 'NAME': MESSAGE (HINT)`, so that a person can open the file at the line.
/// Messages may quote the offending cell of the file (the user's own data, shown to the user locally); they never
/// travel to another site.
public struct DataError: Error, Hashable, CustomStringConvertible {
    /// Kinds of data errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        public static let emptyFile = Code("empty-file")
        public static let noRows = Code("no-rows")
        public static let fieldCount = Code("field-count")
        public static let notANumber = Code("not-a-number")
        public static let unknownCategory = Code("unknown-category")
        public static let outOfRange = Code("out-of-range")
        public static let missingValue = Code("missing-value")
        public static let missingLabel = Code("missing-label")
        public static let missingColumn = Code("missing-column")
        public static let duplicateColumn = Code("duplicate-column")
        public static let malformedCSV = Code("malformed-csv")
        public static let schema = Code("schema")
        public static let io = Code("io")
        public static let tooManyRejected = Code("too-many-rejected")
        public static let federation = Code("federation")
    }

    public var code: Code
    public var file: String?
    /// 1-based line number in the file (the header is line 1).
    public var line: Int?
    public var column: String?
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ code: Code, file: String? = nil, line: Int? = nil, column: String? = nil, _ message: String, hint: String? = nil) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// The location and kind of the problem without the message text, which may quote a data value: safe to send
    /// off the site (e.g. `train.csv:3: column 'age': not-a-number`).
    public var redactedDescription: String {
        var s = ""
        if let file { s += file + (self.line.map { ":\($0)" } ?? "") + ": " }
        if let column { s += "column '\(column)': " }
        return s + self.code.description
    }

    public var description: String {
        var s = ""
        if let file { s += file + (self.line.map { ":\($0)" } ?? "") + ": " }
        if let column { s += "column '\(column)': " }
        s += self.message
        if let hint { s += " (\(hint))" }
        return s
    }
}
