public import Foundation

/// One issued participant certificate, as recorded in the workspace's `participants.json`.
public struct ParticipantRecord: Codable, Sendable, Hashable {
    public var name: String
    public var role: Role
    public var organization: String
    /// The certificate serial number, lowercase hex.
    public var serialHex: String
    /// Lowercase hex SHA-256 of the DER certificate.
    public var fingerprint: String
    public var notBefore: Date
    public var notAfter: Date
    public var revoked: Bool
    public var revokedAt: Date?
    public var revocationReason: String?

    enum CodingKeys: String, CodingKey {
        case name, role, organization, fingerprint, revoked
        case serialHex = "serial"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case revokedAt = "revoked_at"
        case revocationReason = "revocation_reason"
    }

    public init(name: String, role: Role, organization: String, serialHex: String, fingerprint: String,
                notBefore: Date, notAfter: Date, revoked: Bool = false, revokedAt: Date? = nil,
                revocationReason: String? = nil) {
        self.name = name
        self.role = role
        self.organization = organization
        self.serialHex = serialHex
        self.fingerprint = fingerprint
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revoked = revoked
        self.revokedAt = revokedAt
        self.revocationReason = revocationReason
    }

    /// The record of an issued certificate.
    init(issued: IssuedCertificate, organization: String) throws(PKIError) {
        let identity = try PeerIdentity(claimedBy: issued.certificate)
        self.init(name: identity.name, role: identity.role, organization: organization, serialHex: identity.serialHex,
                  fingerprint: identity.fingerprint, notBefore: identity.notBefore, notAfter: identity.notAfter)
    }
}

/// The workspace's `participants.json`: every certificate the project CA issued.
public struct ParticipantRegistry: Codable, Sendable, Hashable {
    public var project: String
    /// Lowercase hex SHA-256 of the DER CA certificate.
    public var caFingerprint: String
    public var participants: [ParticipantRecord]

    enum CodingKeys: String, CodingKey {
        case project, participants
        case caFingerprint = "ca_fingerprint"
    }

    public init(project: String, caFingerprint: String, participants: [ParticipantRecord]) {
        self.project = project
        self.caFingerprint = caFingerprint
        self.participants = participants
    }

    /// The record with a name (case-insensitive).
    public func participant(named name: String) -> ParticipantRecord? {
        self.participants.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Loads `participants.json`.
    public static func load(from url: URL) throws(PKIError) -> ParticipantRegistry {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PKIError(.io, file: url.path, "cannot read the participant registry: \(error.localizedDescription)")
        }
        do { return try RevocationList.decoder().decode(Self.self, from: data) } catch {
            throw PKIError(.notAWorkspace, file: url.path, "not a participant registry: \(error)")
        }
    }

    /// The JSON file text (pretty-printed, sorted keys, ISO 8601 dates).
    public func jsonData() throws(PKIError) -> Data {
        let encoder = RevocationList.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        do { return try encoder.encode(self) } catch {
            throw PKIError(.io, "cannot encode the participant registry: \(error)")
        }
    }
}
