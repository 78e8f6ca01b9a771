/// Why an update could not be encoded or decoded, or a codec spec could not be parsed.
///
/// Decoding refuses malformed input with one of these rather than trapping or guessing: a coordinator decodes bytes
/// that arrived over the network, and a bad upload must fail only that site's contribution.
public struct CompressionError: Error, Hashable, CustomStringConvertible {
    /// Kinds of compression errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// A codec spec string or value is not valid (see ``CodecSpec``).
        public static let invalidSpec = Code("invalid-spec")
        /// The vector to encode is not acceptable (a non-finite value, or error feedback of another length).
        public static let invalidInput = Code("invalid-input")
        /// The bytes do not start with the update magic.
        public static let badMagic = Code("bad-magic")
        /// The format version is not one this build reads.
        public static let unsupportedVersion = Code("unsupported-version")
        /// The bytes end before the header or payload does.
        public static let truncated = Code("truncated")
        /// The element count differs from the one the caller expects.
        public static let countMismatch = Code("count-mismatch")
        /// A sparse index is outside the vector, repeated, or out of order.
        public static let indexOutOfRange = Code("index-out-of-range")
        /// A quantisation block's minimum or maximum (or a Float32 value) is NaN or infinite, or min > max.
        public static let nonFiniteValue = Code("non-finite-value")
        /// The header or payload is inconsistent (unknown flags, wrong sizes, trailing bytes).
        public static let malformed = Code("malformed")
        /// The deflate stream is corrupt or its length differs from the header's.
        public static let decompression = Code("decompression")
    }

    /// The kind of error.
    public var code: Code
    /// What went wrong, for a person.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
