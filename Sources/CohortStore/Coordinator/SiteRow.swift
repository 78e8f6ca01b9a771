public import Foundation
import GRDB

/// A site known to the coordinator, as stored in the `sites` table.
public struct SiteRow: Sendable, Hashable, Codable {
    /// The site's certificate common name.
    public var name: String
    public var organization: String
    /// When the site first connected (kept by ``CoordinatorStore/upsertSite(_:)``).
    public var firstSeen: Date
    /// When the site last connected or sent a heartbeat.
    public var lastSeen: Date
    /// SHA-256 (hex) of the site's certificate.
    public var certFingerprint: String
    /// The certificate's expiry.
    public var certNotAfter: Date?
    /// The site agent's reported version.
    public var softwareVersion: String?

    public init(
        name: String,
        organization: String,
        firstSeen: Date,
        lastSeen: Date,
        certFingerprint: String,
        certNotAfter: Date? = nil,
        softwareVersion: String? = nil
    ) {
        self.name = name
        self.organization = organization
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.certFingerprint = certFingerprint
        self.certNotAfter = certNotAfter
        self.softwareVersion = softwareVersion
    }

    enum CodingKeys: String, CodingKey {
        case name, organization
        case firstSeen = "first_seen"
        case lastSeen = "last_seen"
        case certFingerprint = "cert_fingerprint"
        case certNotAfter = "cert_not_after"
        case softwareVersion = "software_version"
    }

    init(row: Row) throws {
        self.init(
            name: try row.text("name"),
            organization: try row.text("organization"),
            firstSeen: try row.timestamp("first_seen"),
            lastSeen: try row.timestamp("last_seen"),
            certFingerprint: try row.text("cert_fingerprint"),
            certNotAfter: try row.optionalTimestamp("cert_not_after"),
            softwareVersion: row["software_version"]
        )
    }
}
