public import Foundation
public import GRDB

/// The coordinator's durable state: sites, jobs, rounds, metrics, checkpoints, revocations and the audit log.
///
/// ## Layout
/// ```
/// STATE/coordinator.sqlite        SQLite in WAL mode (plus -wal and -shm files), synchronous = FULL
/// STATE/checkpoints/<sha256>.bin  model checkpoints, named by the SHA-256 of their bytes
/// ```
///
/// ## Rounds
/// A round's outcome is written by `commitRound(jobID:round:...)` in one transaction, after its checkpoint was
/// written with ``writeCheckpoint(bytes:)``. After a crash, resume from ``lastCompletedRound(jobID:)``.
///
/// ```swift
/// let store = try CoordinatorStore(directory: stateURL)
/// let sha = try store.writeCheckpoint(bytes: modelBytes)
/// try store.commitRound(
///     jobID: id, round: 3, modelSHA256: sha, serverStateJSON: state, recordJSON: record, siteMetrics: metrics,
///     auditEvents: [AuditEvent(actor: "coordinator", event: "round.committed", contentHashes: [sha])]
/// )
/// ```
///
/// All methods are synchronous and thread-safe; writes are serialised by SQLite, reads run concurrently.
public final class CoordinatorStore: Sendable {
    /// The state directory.
    public let directory: URL
    /// The coordinator's hash-chained audit log (table `audit_log`).
    public let audit: HashChainedLog
    let pool: DatabasePool

    /// Opens (creating and migrating if needed) the coordinator state in `directory`.
    ///
    /// - Throws: ``StoreError`` `.io` if the directory cannot be created, `.database` if SQLite cannot open or
    ///   migrate the database.
    public init(directory: URL) throws {
        self.directory = directory
        self.pool = try StateDatabase.open(
            directory: directory,
            file: "coordinator.sqlite",
            migrator: CoordinatorSchema.migrator
        )
        self.audit = try HashChainedLog(table: CoordinatorSchema.auditTable, writer: self.pool)
        try self.createCheckpointDirectory()
    }

    /// Runs `updates` in one write transaction of the coordinator database.
    ///
    /// For state changes that need their audit entries in the same transaction (append with
    /// ``HashChainedLog/append(actor:event:payload:contentHashes:time:in:)``). If `updates` throws, nothing is
    /// written.
    ///
    /// - Throws: What `updates` throws; SQLite errors as ``StoreError`` `.database`.
    public func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            return try self.pool.write(updates)
        } catch let error as DatabaseError {
            throw StoreError(
                .database,
                "cannot write the coordinator database: \(error). Check that the state directory is writable and "
                    + "not full",
                cause: error
            )
        }
    }

    // MARK: - Jobs

    /// Adds a new job (normally `queued`, with `roundsCompleted == 0`) and appends `auditEvents` in the same
    /// transaction.
    ///
    /// - Throws: ``StoreError`` `.invalidArgument` if a job with this id exists.
    public func insertJob(_ job: JobRow, auditEvents: [AuditEvent] = [], time: Date = Date()) throws {
        try self.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE id = ?", arguments: [job.id]) != nil {
                throw StoreError(.invalidArgument, "a job with id '\(job.id)' already exists; choose another id")
            }
            try db.execute(
                sql: """
                    INSERT INTO jobs (id, name, spec_json, status, submitted_by, submitted_at, started_at, finished_at,
                                      rounds_completed, message, final_model_sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    job.id, job.name, job.specJSON, job.status.rawValue, job.submittedBy,
                    Timestamp.string(job.submittedAt), job.startedAt.map(Timestamp.string),
                    job.finishedAt.map(Timestamp.string), job.roundsCompleted, job.message, job.finalModelSHA256,
                ]
            )
            try self.appendAudit(auditEvents, time: time, in: db)
        }
    }

    /// Changes a job's status and appends `auditEvents` in the same transaction.
    ///
    /// Becoming `running` sets `startedAt` (once); a terminal status sets `finishedAt`. `message` and
    /// `finalModelSHA256` replace the stored values when given. Terminal statuses are final.
    ///
    /// - Throws: ``StoreError`` `.jobNotFound`; `.invalidTransition` if the job is already finished, failed or
    ///   cancelled; `.invalidArgument` if `finalModelSHA256` is not a SHA-256 hex digest.
    public func updateJobStatus(
        id: String,
        status: JobStatus,
        message: String? = nil,
        finalModelSHA256: String? = nil,
        auditEvents: [AuditEvent] = [],
        time: Date = Date()
    ) throws {
        if let sha = finalModelSHA256, !Hex.isSHA256(sha) {
            throw StoreError(.invalidArgument, "final model hash '\(sha)' is not 64 lowercase hex digits")
        }
        try self.write { db in
            let job = try self.requireJob(id: id, in: db)
            guard !job.status.isTerminal else {
                throw StoreError(
                    .invalidTransition,
                    "job '\(id)' is already \(job.status) and cannot become \(status); submit a new job instead"
                )
            }
            let now = Timestamp.string(time)
            try db.execute(
                sql: """
                    UPDATE jobs SET
                        status = ?,
                        started_at = CASE WHEN ? AND started_at IS NULL THEN ? ELSE started_at END,
                        finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
                        message = COALESCE(?, message),
                        final_model_sha256 = COALESCE(?, final_model_sha256)
                    WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, status == .running, now, status.isTerminal, now, message, finalModelSHA256, id,
                ]
            )
            try self.appendAudit(auditEvents, time: time, in: db)
        }
    }

    /// The job with identifier `id`, if any.
    public func job(id: String) throws -> JobRow? {
        try self.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(JobRow.init(row:))
        }
    }

    /// Jobs with `status` (all jobs when `nil`), oldest submission first: the queue order.
    public func jobs(status: JobStatus? = nil) throws -> [JobRow] {
        try self.read { db in
            let rows: [Row]
            if let status {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM jobs WHERE status = ? ORDER BY submitted_at, id",
                    arguments: [status.rawValue]
                )
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY submitted_at, id")
            }
            return try rows.map(JobRow.init(row:))
        }
    }

    // MARK: - Helpers shared by the extensions

    /// Runs `body` in a read transaction.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try StoreError.wrapping("cannot read the coordinator database") {
            try self.pool.read(body)
        }
    }

    func requireJob(id: String, in db: Database) throws -> JobRow {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
            throw StoreError(.jobNotFound, "no job has id '\(id)'; list jobs to find the right id")
        }
        return try JobRow(row: row)
    }

    func appendAudit(_ events: [AuditEvent], time: Date, in db: Database) throws {
        for event in events {
            try self.audit.append(
                actor: event.actor,
                event: event.event,
                payload: event.payload,
                contentHashes: event.contentHashes,
                time: time,
                in: db
            )
        }
    }
}
