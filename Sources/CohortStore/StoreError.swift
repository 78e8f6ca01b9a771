/// A failure to read or write durable state (the coordinator or site database, checkpoints, logs).
///
/// The ``message`` says what went wrong and what to do about it. ``cause`` keeps the underlying error (for example a
/// GRDB `DatabaseError`) for logs; it is not part of the message contract.
public struct StoreError: Error, CustomStringConvertible {
    /// Kinds of store errors. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// A round was committed out of order: not exactly one after the job's last completed round.
        public static let roundOutOfOrder = Code("round-out-of-order")
        /// A checkpoint named by its SHA-256 has no file or no registration.
        public static let checkpointMissing = Code("checkpoint-missing")
        /// A checkpoint file's bytes do not hash to its name.
        public static let checkpointCorrupt = Code("checkpoint-corrupt")
        /// SQLite reported an error (constraint, I/O, busy, ...).
        public static let database = Code("database")
        /// A file-system operation failed.
        public static let io = Code("io")
        /// No job has the given identifier.
        public static let jobNotFound = Code("job-not-found")
        /// The job is in a state that does not allow the operation (for example a finished job).
        public static let jobNotActive = Code("job-not-active")
        /// A requested job status change is not allowed (terminal states are final).
        public static let invalidTransition = Code("invalid-transition")
        /// An argument was malformed (not a SHA-256 hex digest, not finite, not a JSON object, ...).
        public static let invalidArgument = Code("invalid-argument")
        /// A hash-chained log's stored structure is damaged so that it cannot be appended to; run verification.
        public static let logCorrupt = Code("log-corrupt")
    }

    public var code: Code
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause = self.cause {
            return "\(self.code): \(self.message) (underlying error: \(cause))"
        }
        return "\(self.code): \(self.message)"
    }
}

extension StoreError {
    /// Runs `body`, turning any error that is not already a ``StoreError`` into a `.database` error with `context`.
    static func wrapping<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                .database,
                "\(context()): \(error). Check that the state directory is writable, not full, and not used by "
                    + "another process with an incompatible version",
                cause: error
            )
        }
    }
}
