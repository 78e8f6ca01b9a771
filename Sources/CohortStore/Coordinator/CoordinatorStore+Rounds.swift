public import Foundation
import GRDB

extension CoordinatorStore {
    /// Writes a round's outcome in one transaction: the round row, one metrics row per site, the job's
    /// `roundsCompleted`, and the audit entries. Either all of it is stored or none of it.
    ///
    /// The checkpoint must already be stored: call ``writeCheckpoint(bytes:)`` first (it is durable before it
    /// returns). A crash between the two leaves an unreferenced checkpoint file, which is harmless.
    ///
    /// - Parameters:
    ///   - round: Must be exactly the job's `roundsCompleted + 1`, so a round is never applied twice or skipped.
    ///   - siteMetrics: Metrics JSON text per site name, stored as given.
    ///   - auditEvents: Appended to ``audit`` in order, all with `time`.
    /// - Throws: ``StoreError`` `.jobNotFound`; `.jobNotActive` if the job is finished, failed or cancelled;
    ///   `.roundOutOfOrder`; `.checkpointMissing` if `modelSHA256` was not written with ``writeCheckpoint(bytes:)``
    ///   or its file is gone or truncated; `.invalidArgument` for a malformed hash in the arguments or events;
    ///   `.database` if SQLite fails (for example a conflicting metrics row).
    public func commitRound(
        jobID: String,
        round: Int,
        modelSHA256: String,
        serverStateJSON: String,
        recordJSON: String,
        siteMetrics: [String: String],
        auditEvents: [AuditEvent],
        time: Date = Date()
    ) throws {
        guard Hex.isSHA256(modelSHA256) else {
            throw StoreError(.invalidArgument, "model hash '\(modelSHA256)' is not 64 lowercase hex digits")
        }
        try self.write { db in
            let job = try self.requireJob(id: jobID, in: db)
            guard !job.status.isTerminal else {
                throw StoreError(
                    .jobNotActive,
                    "job '\(jobID)' is \(job.status); rounds can only be committed while it is queued or running"
                )
            }
            guard round == job.roundsCompleted + 1 else {
                throw StoreError(
                    .roundOutOfOrder,
                    "job '\(jobID)' has completed \(job.roundsCompleted) rounds, so the next round to commit is "
                        + "\(job.roundsCompleted + 1), not \(round); resume from lastCompletedRound(jobID:)"
                )
            }
            try self.requireCheckpoint(sha256: modelSHA256, in: db)

            let now = Timestamp.string(time)
            try db.execute(
                sql: """
                    INSERT INTO rounds (job_id, round, finished_at, model_sha256, server_state_json, record_json)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [jobID, round, now, modelSHA256, serverStateJSON, recordJSON]
            )
            for site in siteMetrics.keys.sorted() {
                try db.execute(
                    sql: "INSERT INTO round_metrics (job_id, round, site, metrics_json) VALUES (?, ?, ?, ?)",
                    arguments: [jobID, round, site, siteMetrics[site]]
                )
            }
            try db.execute(
                sql: "UPDATE jobs SET rounds_completed = ? WHERE id = ? AND rounds_completed = ?",
                arguments: [round, jobID, round - 1]
            )
            guard db.changesCount == 1 else {
                throw StoreError(.roundOutOfOrder, "job '\(jobID)' changed while round \(round) was being committed")
            }
            try self.appendAudit(auditEvents, time: time, in: db)
        }
    }

    /// The latest committed round of a job, to resume from; `nil` if none (or no such job).
    public func lastCompletedRound(jobID: String) throws -> (round: Int, modelSHA256: String, serverStateJSON: String)?
    {
        try self.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM rounds WHERE job_id = ? ORDER BY round DESC LIMIT 1",
                    arguments: [jobID]
                )
            else { return nil }
            let stored = try RoundRow(row: row)
            return (stored.round, stored.modelSHA256, stored.serverStateJSON)
        }
    }

    /// All committed rounds of a job, in order.
    public func rounds(jobID: String) throws -> [RoundRow] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rounds WHERE job_id = ? ORDER BY round", arguments: [jobID])
                .map(RoundRow.init(row:))
        }
    }

    /// Per-site metrics of a job's rounds (all rounds when `round` is `nil`), by round then site.
    public func roundMetrics(jobID: String, round: Int? = nil) throws -> [RoundMetricsRow] {
        try self.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM round_metrics WHERE job_id = ? AND (? IS NULL OR round = ?) ORDER BY round, site
                    """,
                arguments: [jobID, round, round]
            ).map(RoundMetricsRow.init(row:))
        }
    }
}
