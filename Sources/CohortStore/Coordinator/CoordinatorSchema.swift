import GRDB

/// The coordinator database's migrations.
enum CoordinatorSchema {
    /// The audit log's table.
    static let auditTable = "audit_log"

    /// Migrations, in order. Never edit a registered migration; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sites (
                        name TEXT PRIMARY KEY NOT NULL,
                        organization TEXT NOT NULL,
                        first_seen TEXT NOT NULL,
                        last_seen TEXT NOT NULL,
                        cert_fingerprint TEXT NOT NULL,
                        cert_not_after TEXT,
                        software_version TEXT
                    );
                    CREATE TABLE jobs (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        spec_json TEXT NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
                        submitted_by TEXT NOT NULL,
                        submitted_at TEXT NOT NULL,
                        started_at TEXT,
                        finished_at TEXT,
                        rounds_completed INTEGER NOT NULL DEFAULT 0 CHECK (rounds_completed >= 0),
                        message TEXT,
                        final_model_sha256 TEXT
                    );
                    CREATE INDEX jobs_by_status ON jobs (status, submitted_at);
                    CREATE TABLE checkpoints (
                        sha256 TEXT PRIMARY KEY NOT NULL,
                        byte_count INTEGER NOT NULL,
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE rounds (
                        job_id TEXT NOT NULL REFERENCES jobs (id),
                        round INTEGER NOT NULL CHECK (round >= 1),
                        finished_at TEXT NOT NULL,
                        model_sha256 TEXT NOT NULL REFERENCES checkpoints (sha256),
                        server_state_json TEXT NOT NULL,
                        record_json TEXT NOT NULL,
                        PRIMARY KEY (job_id, round)
                    );
                    CREATE TABLE round_metrics (
                        job_id TEXT NOT NULL,
                        round INTEGER NOT NULL,
                        site TEXT NOT NULL,
                        metrics_json TEXT NOT NULL,
                        PRIMARY KEY (job_id, round, site),
                        FOREIGN KEY (job_id, round) REFERENCES rounds (job_id, round)
                    );
                    CREATE TABLE revocations (
                        fingerprint TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        serial TEXT NOT NULL,
                        revoked_at TEXT NOT NULL,
                        reason TEXT NOT NULL
                    );
                    """
            )
            try HashChainedLog.createTables(named: Self.auditTable, in: db)
        }
        return migrator
    }
}
