/// A problem with an analytics query, plan, mapping or protocol message.
///
/// The message says what is wrong and what to do about it. Messages never quote a data value: they name columns,
/// statistics, categories declared in a schema, and counts.
public struct AnalyticsError: Error, Hashable, CustomStringConvertible {
    /// Kinds of analytics errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// The query is malformed or asks for something impossible.
        public static let invalidQuery = Code("invalid-query")
        /// The query names a column the schema does not have.
        public static let unknownColumn = Code("unknown-column")
        /// The row filter cannot be parsed or does not fit the column types.
        public static let invalidFilter = Code("invalid-filter")
        /// Site partials answer different plans, or a plan cannot be resolved.
        public static let planMismatch = Code("plan-mismatch")
        /// A site's analytics policy file is malformed.
        public static let invalidPolicy = Code("invalid-policy")
        /// A schema mapping file is malformed.
        public static let invalidMapping = Code("invalid-mapping")
        /// A site's data does not match the job's schema after mapping.
        public static let schemaMismatch = Code("schema-mismatch")
        /// Private set intersection parameters differ between parties.
        public static let parameterMismatch = Code("parameter-mismatch")
        /// A private set intersection message is out of order, malformed or addressed wrongly.
        public static let protocolViolation = Code("protocol-violation")
        /// Reading or writing a file failed.
        public static let io = Code("io")
    }

    public var code: Code
    public var message: String
    /// For ``Code/schemaMismatch``: what differs, item by item.
    public var differences: SchemaDifferences?

    public init(_ code: Code, _ message: String, differences: SchemaDifferences? = nil) {
        self.code = code
        self.message = message
        self.differences = differences
    }

    public var description: String { "\(self.code): \(self.message)" }
}
