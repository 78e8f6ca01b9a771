/// A malformed or unacceptable wire message.
public struct WireError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        public static let invalidMessage = Code("invalid-message")
        public static let integrity = Code("integrity")
        public static let tooLarge = Code("too-large")
        public static let incomplete = Code("incomplete")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
