public import Foundation
import GRDB

extension CoordinatorStore {
    // MARK: - Sites

    /// Inserts a site, or updates a known one, keeping its original `firstSeen`.
    public func upsertSite(_ site: SiteRow) throws {
        try self.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sites (name, organization, first_seen, last_seen, cert_fingerprint, cert_not_after,
                                       software_version)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        organization = excluded.organization,
                        last_seen = excluded.last_seen,
                        cert_fingerprint = excluded.cert_fingerprint,
                        cert_not_after = excluded.cert_not_after,
                        software_version = excluded.software_version
                    """,
                arguments: [
                    site.name, site.organization, Timestamp.string(site.firstSeen), Timestamp.string(site.lastSeen),
                    site.certFingerprint, site.certNotAfter.map(Timestamp.string), site.softwareVersion,
                ]
            )
        }
    }

    /// The site named `name`, if known.
    public func site(name: String) throws -> SiteRow? {
        try self.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE name = ?", arguments: [name]).map(SiteRow.init(row:))
        }
    }

    /// All known sites, by name.
    public func sites() throws -> [SiteRow] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sites ORDER BY name").map(SiteRow.init(row:))
        }
    }

    // MARK: - Revocations

    /// Records a revoked certificate and appends `auditEvents` in the same transaction.
    ///
    /// Revoking an already revoked fingerprint keeps the first record (and still appends the events).
    public func addRevocation(_ revocation: RevocationRow, auditEvents: [AuditEvent] = [], time: Date = Date()) throws {
        try self.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO revocations (fingerprint, name, serial, revoked_at, reason)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    revocation.fingerprint, revocation.name, revocation.serial,
                    Timestamp.string(revocation.revokedAt), revocation.reason,
                ]
            )
            try self.appendAudit(auditEvents, time: time, in: db)
        }
    }

    /// All revocations, oldest first.
    public func revocations() throws -> [RevocationRow] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM revocations ORDER BY revoked_at, fingerprint")
                .map(RevocationRow.init(row:))
        }
    }

    /// Whether the certificate with SHA-256 fingerprint `fingerprint` is revoked.
    public func isRevoked(fingerprint: String) throws -> Bool {
        try self.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM revocations WHERE fingerprint = ?", arguments: [fingerprint])
                ?? false
        }
    }
}
