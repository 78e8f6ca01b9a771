public import Crypto
public import Foundation
import SwiftASN1
public import X509

/// Checks certificates presented by peers against the project CA and reads who they are.
///
/// TLS (e.g. NIOSSL with the CA as the only trust root) already checks the chain during the handshake; the verifier
/// repeats the checks that matter so the server never trusts a certificate it has not checked itself, and turns the
/// subject into a ``PeerIdentity``:
/// ```swift
/// let verifier = IdentityVerifier(caCertificate: kit.caCertificate)
/// let peer = try verifier.identity(of: peerCertificate)
/// try verifier.check(peer, against: revocations)
/// guard peer.role == .site else { ... }
/// ```
public struct IdentityVerifier: Sendable {
    /// The trusted project CA.
    public let caCertificate: Certificate

    public init(caCertificate: Certificate) {
        self.caCertificate = caCertificate
    }

    /// The identity in `certificate`, after checking it was issued by the CA and is valid at `now`.
    ///
    /// Throws, in the order checked: ``PKIError/Code-swift.struct/untrustedCertificate`` (another CA, or a bad
    /// signature), ``PKIError/Code-swift.struct/certificateNotYetValid``,
    /// ``PKIError/Code-swift.struct/certificateExpired``, ``PKIError/Code-swift.struct/invalidIdentity`` (no CN or role,
    /// or a CA certificate).
    public func identity(of certificate: Certificate, now: Date = Date()) throws(PKIError) -> PeerIdentity {
        let claimed = certificate.subject.commonName ?? "\(certificate.subject)"
        guard certificate.isIssued(by: self.caCertificate) else {
            throw PKIError(.untrustedCertificate,
                           "the certificate of '\(claimed)' was not issued by this project's CA "
                               + "(issuer '\(certificate.issuer)', trusted CA '\(self.caCertificate.subject)')",
                           hint: "use a kit provisioned for this project; kits from another workspace do not work")
        }
        guard now >= certificate.notValidBefore else {
            throw PKIError(.certificateNotYetValid,
                           "the certificate of '\(claimed)' is valid only from \(Self.format(certificate.notValidBefore))"
                               + " (now \(Self.format(now)))",
                           hint: "check the clock of this machine and of the machine that provisioned the kit")
        }
        guard now <= certificate.notValidAfter else {
            throw PKIError(.certificateExpired,
                           "the certificate of '\(claimed)' expired at \(Self.format(certificate.notValidAfter))",
                           hint: "issue a new kit with `cohort provision --add-site` and revoke the old one")
        }
        return try PeerIdentity(claimedBy: certificate)
    }

    /// Throws ``PKIError/Code-swift.struct/revoked`` if the list revokes the identity's serial number or fingerprint.
    ///
    /// The list should have been checked with ``RevocationList/verify(caCertificate:)`` when it was loaded.
    public func check(_ identity: PeerIdentity, against revocations: RevocationList?) throws(PKIError) {
        guard let revocations else { return }
        let entry = revocations.entries.first {
            $0.serialHex == identity.serialHex || $0.fingerprint == identity.fingerprint
        }
        if let entry {
            throw PKIError(.revoked,
                           "the certificate of '\(identity.name)' was revoked at \(Self.format(entry.revokedAt)): "
                               + entry.reason)
        }
    }

    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
}

extension IdentityVerifier {
    /// The signing keys of participants from their DER certificates, after checking each was issued by the project
    /// CA, is valid now, names that participant and carries the site role. Used for secure aggregation, so that the
    /// party relaying the certificates cannot substitute its own keys.
    ///
    /// - Throws: ``PKIError`` naming the participant whose certificate fails a check.
    public func siteSigningKeys(participants: [String], certificates: [[UInt8]], now: Date = Date()) throws(PKIError) -> [String: P256.Signing.PublicKey] {
        guard participants.count == certificates.count else {
            throw PKIError(.invalidIdentity, "\(participants.count) participants but \(certificates.count) certificates")
        }
        var keys = [String: P256.Signing.PublicKey]()
        for (name, der) in zip(participants, certificates) {
            let certificate: Certificate
            do { certificate = try Certificate(derEncoded: der) } catch {
                throw PKIError(.invalidIdentity, "the certificate of '\(name)' does not parse: \(error)")
            }
            let identity = try self.identity(of: certificate, now: now)
            guard identity.name == name, identity.role == .site else {
                throw PKIError(.invalidIdentity, "the certificate given for '\(name)' belongs to the \(identity.role.rawValue) '\(identity.name)'")
            }
            guard let key = P256.Signing.PublicKey(certificate.publicKey) else {
                throw PKIError(.invalidIdentity, "the certificate of '\(name)' does not hold an ECDSA P-256 key")
            }
            keys[name] = key
        }
        return keys
    }
}
