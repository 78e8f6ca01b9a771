public import Foundation
import GRDB

/// A site agent's durable state: the egress log and the privacy ledger.
///
/// ## Layout
/// ```
/// STATE/site.sqlite    SQLite in WAL mode, synchronous = FULL: tables egress_log, chain_head, privacy_ledger
/// ```
public final class SiteStore: Sendable {
    /// The state directory.
    public let directory: URL
    /// Every message that left the site, hash-chained (table `egress_log`); see `recordEgress(actor:kind:...)`.
    public let egress: HashChainedLog
    private let pool: DatabasePool

    /// Opens (creating and migrating if needed) the site state in `directory`.
    public init(directory: URL) throws {
        self.directory = directory
        self.pool = try StateDatabase.open(directory: directory, file: "site.sqlite", migrator: Self.migrator)
        self.egress = try HashChainedLog(table: "egress_log", writer: self.pool)
    }

    /// Appends an egress entry for one message about to leave (or that left) the site.
    ///
    /// The entry's event is `egress.<kind>`, its payload `{"bytes", "destination", "job", "kind", "round"}`
    /// (`round` omitted when `nil`), and its content hash the message's SHA-256.
    ///
    /// - Parameters:
    ///   - actor: The site's certificate name.
    ///   - kind: The declared message kind, e.g. `update`, `metrics`, `statistics`.
    ///   - byteCount: Size of the message as sent.
    ///   - sha256: Lowercase hex SHA-256 of the message as sent.
    @discardableResult
    public func recordEgress(
        actor: String,
        kind: String,
        jobID: String,
        round: Int? = nil,
        byteCount: Int,
        sha256: String,
        destination: String = "coordinator",
        time: Date = Date()
    ) throws -> LogEntry {
        var payload: [String: LogValue] = [
            "kind": .string(kind), "job": .string(jobID), "bytes": .int(Int64(byteCount)),
            "destination": .string(destination),
        ]
        if let round { payload["round"] = .int(Int64(round)) }
        return try self.egress.append(
            actor: actor,
            event: "egress.\(kind)",
            payload: payload,
            contentHashes: [sha256],
            time: time
        )
    }

    /// Records privacy budget spent by a job at this site.
    ///
    /// - Throws: ``StoreError`` `.invalidArgument` unless `epsilon` is finite and non-negative and `delta` is in
    ///   [0, 1].
    public func recordPrivacySpend(jobID: String, epsilon: Double, delta: Double, mechanism: String = "", time: Date = Date()) throws {
        guard epsilon.isFinite, epsilon >= 0, delta.isFinite, (0...1).contains(delta) else {
            throw StoreError(
                .invalidArgument,
                "privacy spend (epsilon \(epsilon), delta \(delta)) is invalid; epsilon must be finite and >= 0 and "
                    + "delta in [0, 1]"
            )
        }
        try StoreError.wrapping("cannot record a privacy spend") {
            try self.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO privacy_ledger (job_id, epsilon, delta, recorded_at, mechanism) VALUES (?, ?, ?, ?, ?)",
                    arguments: [jobID, epsilon, delta, Timestamp.string(time), mechanism]
                )
            }
        }
    }

    /// The sum of recorded epsilons: of one job, or of all jobs when `jobID` is `nil` (basic composition).
    public func totalEpsilon(jobID: String? = nil) throws -> Double {
        try StoreError.wrapping("cannot read the privacy ledger") {
            try self.pool.read { db in
                try Double.fetchOne(
                    db,
                    sql: "SELECT COALESCE(SUM(epsilon), 0) FROM privacy_ledger WHERE ? IS NULL OR job_id = ?",
                    arguments: [jobID, jobID]
                ) ?? 0
            }
        }
    }

    /// One recorded spend.
    public struct PrivacySpendRecord: Sendable, Hashable {
        public var jobID: String
        public var epsilon: Double
        public var delta: Double
        public var mechanism: String
        public var recordedAt: String
    }

    /// Every recorded spend, oldest first.
    public func privacySpends() throws -> [PrivacySpendRecord] {
        try StoreError.wrapping("cannot read the privacy ledger") {
            try self.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT job_id, epsilon, delta, mechanism, recorded_at FROM privacy_ledger ORDER BY id").map {
                    PrivacySpendRecord(jobID: $0["job_id"], epsilon: $0["epsilon"], delta: $0["delta"],
                                       mechanism: $0["mechanism"], recordedAt: $0["recorded_at"])
                }
            }
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE privacy_ledger (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        job_id TEXT NOT NULL,
                        epsilon REAL NOT NULL CHECK (epsilon >= 0),
                        delta REAL NOT NULL CHECK (delta >= 0 AND delta <= 1),
                        recorded_at TEXT NOT NULL
                    );
                    CREATE INDEX privacy_ledger_by_job ON privacy_ledger (job_id);
                    """
            )
            try HashChainedLog.createTables(named: "egress_log", in: db)
        }
        migrator.registerMigration("v2-ledger-mechanism") { db in
            try db.execute(sql: "ALTER TABLE privacy_ledger ADD COLUMN mechanism TEXT NOT NULL DEFAULT ''")
        }
        return migrator
    }
}
