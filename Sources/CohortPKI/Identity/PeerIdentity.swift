public import Foundation
public import X509

/// Who a certificate says its holder is: the participant name, role and organization, with the certificate's
/// serial number, fingerprint and validity period.
public struct PeerIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The participant name (certificate CN).
    public var name: String
    public var role: Role
    /// The organization (certificate O).
    public var organization: String
    /// The project (the OU before the role), when the certificate names one.
    public var project: String?
    /// The serial number as lowercase hex.
    public var serialHex: String
    /// Lowercase hex SHA-256 of the DER certificate.
    public var fingerprint: String
    public var notBefore: Date
    public var notAfter: Date

    public init(name: String, role: Role, organization: String, project: String? = nil, serialHex: String,
                fingerprint: String, notBefore: Date, notAfter: Date) {
        self.name = name
        self.role = role
        self.organization = organization
        self.project = project
        self.serialHex = serialHex
        self.fingerprint = fingerprint
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Reads the identity a certificate claims, without checking who issued it or when it is valid.
    ///
    /// Use ``IdentityVerifier/identity(of:now:)`` for certificates presented by peers. Throws
    /// ``PKIError/Code-swift.struct/invalidIdentity`` when the subject has no valid CN or no Cohort role, or when the
    /// certificate is a CA certificate.
    public init(claimedBy certificate: Certificate) throws(PKIError) {
        let subject = certificate.subject
        guard let name = subject.commonName, ParticipantName.isValid(name) else {
            throw PKIError(.invalidIdentity, "the certificate subject '\(subject)' has no valid participant name (CN)")
        }
        let units = subject.organizationalUnitNames
        guard let unit = units.last, let role = Role(rawValue: unit) else {
            throw PKIError(.invalidIdentity, "the certificate of '\(name)' carries no Cohort role",
                           hint: "expected OU=coordinator, OU=site or OU=admin next to the CN")
        }
        if case .some(.isCertificateAuthority) = try? certificate.extensions.basicConstraints {
            throw PKIError(.invalidIdentity, "'\(name)' presented a CA certificate, not a participant certificate")
        }
        self.init(name: name, role: role, organization: subject.organizationName ?? "",
                  project: units.count >= 2 ? units[units.count - 2] : nil, serialHex: certificate.serialHex,
                  fingerprint: try certificate.sha256Fingerprint(), notBefore: certificate.notValidBefore,
                  notAfter: certificate.notValidAfter)
    }

    public var description: String { "\(self.role.rawValue) '\(self.name)' (\(self.organization))" }
}
