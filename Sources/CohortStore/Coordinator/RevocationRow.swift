public import Foundation
import GRDB

/// A revoked certificate, as stored in the `revocations` table.
public struct RevocationRow: Sendable, Hashable, Codable {
    /// SHA-256 (hex) of the certificate.
    public var fingerprint: String
    /// The certificate's common name.
    public var name: String
    /// The certificate's serial number (hex).
    public var serial: String
    public var revokedAt: Date
    public var reason: String

    public init(fingerprint: String, name: String, serial: String, revokedAt: Date = Date(), reason: String) {
        self.fingerprint = fingerprint
        self.name = name
        self.serial = serial
        self.revokedAt = revokedAt
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case fingerprint, name, serial, reason
        case revokedAt = "revoked_at"
    }

    init(row: Row) throws {
        self.init(
            fingerprint: try row.text("fingerprint"),
            name: try row.text("name"),
            serial: try row.text("serial"),
            revokedAt: try row.timestamp("revoked_at"),
            reason: try row.text("reason")
        )
    }
}
