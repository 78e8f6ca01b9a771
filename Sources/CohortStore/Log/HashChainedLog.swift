public import Foundation
public import GRDB

/// An append-only, hash-chained event log in one SQLite table: the coordinator's audit log, a site's egress log.
///
/// Each entry's hash covers its contents and the previous entry's hash (see ``LogEntry``), so changing, removing,
/// inserting or moving an entry breaks the chain, and ``verify(anchor:)`` reports where. The log's head (sequence and
/// hash of the last entry) is also kept in the `chain_head` table, updated in the same transaction as each append, so
/// that cutting entries off the end is detected too.
///
/// Appends join the caller's transaction, so an event and the state change it records commit together:
///
/// ```swift
/// try pool.write { db in
///     try db.execute(sql: "UPDATE jobs SET status = 'cancelled' WHERE id = ?", arguments: [id])
///     try audit.append(actor: "admin@lab", event: "job.cancelled", payload: ["job": .string(id)], in: db)
/// }
/// ```
///
/// SQLite triggers reject `UPDATE` and `DELETE` on the table and any head change other than one step forward, which
/// stops accidents in the application; they do not stop someone who edits the file (they can drop the triggers):
/// that is what verification is for.
public final class HashChainedLog: Sendable {
    /// The SQLite table holding the entries.
    public let table: String
    private let writer: any DatabaseWriter

    /// Opens the log stored in `table` of `writer`'s database.
    ///
    /// The table must exist: create it in a migration with ``createTables(named:in:)``.
    public init(table: String, writer: any DatabaseWriter) throws {
        try Self.validate(table: table)
        self.table = table
        self.writer = writer
    }

    /// Creates the entry table `name`, its triggers, the shared `chain_head` table and the log's head record.
    public static func createTables(named name: String, in db: Database) throws {
        try Self.validate(table: name)
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS chain_head (
                    log TEXT PRIMARY KEY NOT NULL,
                    sequence INTEGER NOT NULL,
                    entry_hash TEXT NOT NULL
                );
                CREATE TRIGGER IF NOT EXISTS chain_head_no_delete BEFORE DELETE ON chain_head
                BEGIN SELECT RAISE(ABORT, 'chain_head rows cannot be deleted'); END;
                CREATE TRIGGER IF NOT EXISTS chain_head_forward_only BEFORE UPDATE ON chain_head
                WHEN NEW.log <> OLD.log OR NEW.sequence <> OLD.sequence + 1
                BEGIN SELECT RAISE(ABORT, 'a chain head only moves forward by one entry'); END;
                CREATE TABLE "\(name)" (
                    sequence INTEGER PRIMARY KEY NOT NULL,
                    time TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    event TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    content_hashes TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    entry_hash TEXT NOT NULL
                );
                CREATE TRIGGER "\(name)_no_update" BEFORE UPDATE ON "\(name)"
                BEGIN SELECT RAISE(ABORT, '\(name) is append-only'); END;
                CREATE TRIGGER "\(name)_no_delete" BEFORE DELETE ON "\(name)"
                BEGIN SELECT RAISE(ABORT, '\(name) is append-only'); END;
                """
        )
        try db.execute(
            sql: "INSERT INTO chain_head (log, sequence, entry_hash) VALUES (?, 0, ?)",
            arguments: [name, LogEntry.genesisHash]
        )
    }

    /// Appends an entry inside the caller's write transaction and returns it.
    ///
    /// The entry takes the sequence number after the stored head, so a log whose tail was cut off keeps a visible
    /// gap rather than silently reusing the missing numbers.
    ///
    /// - Parameters:
    ///   - actor: Who caused the event (a certificate's common name, `coordinator`).
    ///   - event: What happened, e.g. `round.committed`.
    ///   - payload: Details, stored as canonical JSON (see ``LogValue``).
    ///   - contentHashes: Lowercase hex SHA-256 digests of bytes the entry refers to.
    ///   - time: When it happened (stored with millisecond precision).
    ///   - db: A connection of this log's database, inside a write transaction (`writer.write { db in ... }`).
    /// - Throws: ``StoreError`` `.invalidArgument` for a malformed digest, a non-finite number or no transaction;
    ///   `.logCorrupt` if the head record is missing; `.database` if SQLite fails.
    @discardableResult
    public func append(
        actor: String,
        event: String,
        payload: [String: LogValue] = [:],
        contentHashes: [String] = [],
        time: Date = Date(),
        in db: Database
    ) throws -> LogEntry {
        guard db.isInsideTransaction else {
            throw StoreError(
                .invalidArgument,
                "append to \(self.table) outside a transaction; call it inside `write { db in ... }`"
            )
        }
        for hash in contentHashes where !Hex.isSHA256(hash) {
            throw StoreError(.invalidArgument, "content hash '\(hash)' is not 64 lowercase hex digits (a SHA-256)")
        }
        let payloadText = try LogValue.canonicalJSON(payload)
        return try StoreError.wrapping("cannot append '\(event)' to \(self.table)") {
            guard let head = try Self.head(of: self.table, in: db) else {
                throw StoreError(
                    .logCorrupt,
                    "the head record of \(self.table) is missing from chain_head; run `verify` and restore the "
                        + "database from a backup"
                )
            }
            let sequence = head.sequence + 1
            let timeText = Timestamp.string(time)
            let entryHash = LogEntry.computeHash(
                sequence: sequence,
                time: timeText,
                actor: actor,
                event: event,
                payload: payloadText,
                contentHashes: contentHashes,
                previousHash: head.entryHash
            )
            let entry = LogEntry(
                sequence: sequence,
                time: timeText,
                actor: actor,
                event: event,
                payload: payloadText,
                contentHashes: contentHashes,
                previousHash: head.entryHash,
                entryHash: entryHash
            )
            try db.cachedStatement(
                sql: """
                    INSERT INTO "\(self.table)"
                        (sequence, time, actor, event, payload, content_hashes, previous_hash, entry_hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                sequence, timeText, actor, event, payloadText, Self.encodeHashes(contentHashes),
                head.entryHash, entryHash,
            ])
            try db.cachedStatement(sql: "UPDATE chain_head SET sequence = ?, entry_hash = ? WHERE log = ?")
                .execute(arguments: [sequence, entryHash, self.table])
            return entry
        }
    }

    /// Appends an entry in a write transaction of its own and returns it.
    @discardableResult
    public func append(
        actor: String,
        event: String,
        payload: [String: LogValue] = [:],
        contentHashes: [String] = [],
        time: Date = Date()
    ) throws -> LogEntry {
        try StoreError.wrapping("cannot append '\(event)' to \(self.table)") {
            try self.writer.write { db in
                try self.append(
                    actor: actor,
                    event: event,
                    payload: payload,
                    contentHashes: contentHashes,
                    time: time,
                    in: db
                )
            }
        }
    }

    /// Up to `limit` entries with sequence numbers from `from` on, in order.
    public func entries(from: Int64 = 1, limit: Int = 1000) throws -> [LogEntry] {
        try StoreError.wrapping("cannot read \(self.table)") {
            try self.writer.read { db in
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT * FROM \"\(self.table)\" WHERE sequence >= ? ORDER BY sequence LIMIT ?",
                    arguments: [from, limit]
                )
                var entries = [LogEntry]()
                while let row = try rows.next() {
                    guard let entry = Self.entry(row) else {
                        throw StoreError(
                            .logCorrupt,
                            "entry \(row["sequence"] ?? "?") of \(self.table) is malformed; run verification"
                        )
                    }
                    entries.append(entry)
                }
                return entries
            }
        }
    }

    /// The stored head: sequence and hash of the last appended entry (0 and 64 zeros when empty).
    public func head() throws -> LogAnchor {
        try StoreError.wrapping("cannot read the head of \(self.table)") {
            try self.writer.read { db in
                guard let head = try Self.head(of: self.table, in: db) else {
                    throw StoreError(.logCorrupt, "the head record of \(self.table) is missing; run verification")
                }
                return head
            }
        }
    }

    /// Writes every entry to `url` as JSON lines: one object per line, keys sorted, all fields as stored.
    ///
    /// The file is replaced atomically. Its directory must exist.
    public func export(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8] = try StoreError.wrapping("cannot export \(self.table)") {
            try self.writer.read { db in
                var out = [UInt8]()
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \"\(self.table)\" ORDER BY sequence")
                while let row = try rows.next() {
                    guard let entry = Self.entry(row) else {
                        throw StoreError(
                            .logCorrupt,
                            "entry \(row["sequence"] ?? "?") of \(self.table) is malformed; run verification"
                        )
                    }
                    out += try encoder.encode(entry)
                    out.append(UInt8(ascii: "\n"))
                }
                return out
            }
        }
        try DurableFile.writeAtomically(bytes, to: url)
    }

    // MARK: - Shared with verification

    static func head(of table: String, in db: Database) throws -> LogAnchor? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT sequence, entry_hash FROM chain_head WHERE log = ?"),
                arguments: [table]
            ),
            let sequence = row["sequence"] as Int64?, let hash = row["entry_hash"] as String?
        else { return nil }
        return LogAnchor(sequence: sequence, entryHash: hash)
    }

    /// Decodes a stored row; `nil` if a column is missing, NULL, of the wrong type, or `content_hashes` is not a
    /// JSON array of strings.
    static func entry(_ row: Row) -> LogEntry? {
        guard let sequence = row["sequence"] as Int64?,
            let time = row["time"] as String?,
            let actor = row["actor"] as String?,
            let event = row["event"] as String?,
            let payload = row["payload"] as String?,
            let hashesText = row["content_hashes"] as String?,
            let previousHash = row["previous_hash"] as String?,
            let entryHash = row["entry_hash"] as String?,
            let hashes = try? JSONDecoder().decode([String].self, from: Data(hashesText.utf8))
        else { return nil }
        return LogEntry(
            sequence: sequence,
            time: time,
            actor: actor,
            event: event,
            payload: payload,
            contentHashes: hashes,
            previousHash: previousHash,
            entryHash: entryHash
        )
    }

    private static func encodeHashes(_ hashes: [String]) -> String {
        "[" + hashes.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }

    private static func validate(table: String) throws {
        let utf8 = Array(table.utf8)
        let isIdentifier =
            !utf8.isEmpty && utf8.count <= 64 && !(0x30...0x39).contains(utf8[0])
            && utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) }
        guard isIdentifier, table != "chain_head", !table.hasPrefix("sqlite_") else {
            throw StoreError(
                .invalidArgument,
                "log table name '\(table)' must be lowercase letters, digits and '_', not start with a digit, "
                    + "and not be 'chain_head' or start with 'sqlite_'"
            )
        }
    }

    /// Runs `body` in a read transaction of the log's database.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try StoreError.wrapping("cannot read \(self.table)") {
            try self.writer.read(body)
        }
    }
}
