/// An error from secure aggregation: an invalid configuration or input, a message that breaks the protocol, or a
/// round that cannot finish without revealing something it must not.
///
/// Errors compare by ``code`` only, so tests can match on the kind of failure; the ``message`` says what happened in
/// words, naming the participant, neighbourhood and counts where there are some.
public struct SecAggError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. New codes may be added; switch with a `default` branch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case invalidConfiguration, invalidInput, unknownParticipant, unexpectedMessage, invalidSignature
            case invalidKey, malformedShare, authenticationFailed, belowThreshold, refusedRequest
            case reconstructionFailed, aborted
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The configuration is inconsistent (threshold, neighbourhood, modulus, encoding or ids).
        public static let invalidConfiguration = Self(.invalidConfiguration)
        /// A client's input has the wrong length, a non-finite value or an out-of-range weight.
        public static let invalidInput = Self(.invalidInput)
        /// A message names a participant that is not in the configuration or not a neighbour.
        public static let unknownParticipant = Self(.unknownParticipant)
        /// A message arrived at a stage that does not expect it, or twice.
        public static let unexpectedMessage = Self(.unexpectedMessage)
        /// An advertised key bundle's signature does not verify under the sender's long-term key.
        public static let invalidSignature = Self(.invalidSignature)
        /// A public key or secret has the wrong size or is not a valid curve point.
        public static let invalidKey = Self(.invalidKey)
        /// A secret share has the wrong shape or an element outside the field.
        public static let malformedShare = Self(.malformedShare)
        /// An encrypted share failed authentication (tampered with, or routed to the wrong recipient).
        public static let authenticationFailed = Self(.authenticationFailed)
        /// Fewer than the threshold of a neighbourhood remain: the round cannot finish safely.
        public static let belowThreshold = Self(.belowThreshold)
        /// An honest client refused an unmasking request that would reveal too much or contradicts what it saw.
        public static let refusedRequest = Self(.refusedRequest)
        /// Shamir reconstruction failed or produced a key that does not match the advertised public key.
        public static let reconstructionFailed = Self(.reconstructionFailed)
        /// The state machine has already aborted the round.
        public static let aborted = Self(.aborted)

        public var description: String { self.value.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, for people.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "SecAggError(\(self.code)): \(self.message)" }

    public static func == (lhs: SecAggError, rhs: SecAggError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    static func invalidConfiguration(_ message: String) -> Self { Self(code: .invalidConfiguration, message: message) }
    static func unexpected(_ message: String) -> Self { Self(code: .unexpectedMessage, message: message) }
}
