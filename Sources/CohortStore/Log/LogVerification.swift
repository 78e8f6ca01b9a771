/// A position in a ``HashChainedLog``: an entry's sequence number and hash.
///
/// The log's head is an anchor. Keeping a copy of the head outside the database (printed by `cohort audit verify`,
/// sent to an admin) and passing it to ``HashChainedLog/verify(anchor:)`` later detects even a consistent rewrite of
/// the log by someone with write access to the database file.
public struct LogAnchor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The entry's sequence number (0 for the head of an empty log).
    public var sequence: Int64
    /// The entry's hash (``LogEntry/genesisHash`` for the head of an empty log).
    public var entryHash: String

    public init(sequence: Int64, entryHash: String) {
        self.sequence = sequence
        self.entryHash = entryHash
    }

    enum CodingKeys: String, CodingKey {
        case sequence
        case entryHash = "entry_hash"
    }

    public var description: String { "#\(self.sequence) \(self.entryHash)" }
}

/// The outcome of ``HashChainedLog/verify(anchor:)``: valid, or the first problem found.
public struct LogVerification: Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with a log, located at the first bad entry.
    ///
    /// Two problems are equal when their kind and sequence are equal; ``detail`` is for people.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// Kinds of problems. New kinds may be added; switch with a `default`.
        public struct Kind: Hashable, Sendable, CustomStringConvertible {
            private let value: String
            private init(_ value: String) { self.value = value }
            public var description: String { self.value }

            /// The entry's contents do not hash to its stored hash, at its own or any other sequence number.
            public static let edited = Kind("edited")
            /// Entries are missing after ``Problem/sequence`` (a gap, a broken link, or a truncated tail).
            public static let deleted = Kind("deleted")
            /// Entries from ``Problem/sequence`` on (up to the next genuine one) do not belong in the chain.
            public static let inserted = Kind("inserted")
            /// The entry at ``Problem/sequence`` is genuine but in the wrong place: it links to a later entry.
            public static let reordered = Kind("reordered")
            /// The separately stored head disagrees with the entry at its sequence: the head record was edited, or
            /// that entry was replaced together with its hash.
            public static let headMismatch = Kind("head-mismatch")
        }

        public var kind: Kind
        /// The first bad entry (for ``Kind/deleted``: the last good entry before the missing ones, 0 if none).
        public var sequence: Int64
        /// A sentence for people saying what was found.
        public var detail: String

        public init(kind: Kind, sequence: Int64, detail: String = "") {
            self.kind = kind
            self.sequence = sequence
            self.detail = detail
        }

        /// Entry `sequence` was edited.
        public static func edited(_ sequence: Int64, detail: String = "") -> Problem {
            Problem(kind: .edited, sequence: sequence, detail: detail)
        }

        /// Entries are missing after entry `sequence`.
        public static func deleted(after sequence: Int64, detail: String = "") -> Problem {
            Problem(kind: .deleted, sequence: sequence, detail: detail)
        }

        /// Entries were inserted starting at `sequence`.
        public static func inserted(_ sequence: Int64, detail: String = "") -> Problem {
            Problem(kind: .inserted, sequence: sequence, detail: detail)
        }

        /// Entry `sequence` was moved.
        public static func reordered(_ sequence: Int64, detail: String = "") -> Problem {
            Problem(kind: .reordered, sequence: sequence, detail: detail)
        }

        /// The head record disagrees with entry `sequence`.
        public static func headMismatch(_ sequence: Int64, detail: String = "") -> Problem {
            Problem(kind: .headMismatch, sequence: sequence, detail: detail)
        }

        public static func == (lhs: Problem, rhs: Problem) -> Bool {
            lhs.kind == rhs.kind && lhs.sequence == rhs.sequence
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.kind)
            hasher.combine(self.sequence)
        }

        public var description: String {
            let location = self.kind == .deleted ? "after entry \(self.sequence)" : "at entry \(self.sequence)"
            return self.detail.isEmpty ? "\(self.kind) \(location)" : "\(self.kind) \(location): \(self.detail)"
        }
    }

    /// Entries read (all of them when valid; up to and including the first bad one otherwise).
    public var entryCount: Int64
    /// The last entry read: the log's head when valid.
    public var head: LogAnchor
    /// The first problem found, or `nil` when the chain is valid.
    public var problem: Problem?

    public init(entryCount: Int64, head: LogAnchor, problem: Problem?) {
        self.entryCount = entryCount
        self.head = head
        self.problem = problem
    }

    /// Whether the chain is intact.
    public var isValid: Bool { self.problem == nil }

    public var description: String {
        if let problem = self.problem { return "invalid: \(problem)" }
        return "valid: \(self.entryCount) entries, head \(self.head)"
    }
}
