import CohortTesting
import Crypto
import Foundation
import Testing
import X509

@testable import CohortPKI

@Suite("IdentityVerifier")
struct IdentityVerifierTests {
    let now = fixedNow
    let ca: CertificateAuthority
    let verifier: IdentityVerifier

    init() throws {
        self.ca = try TestCertificates.makeCA(name: "hospital-net", notBefore: fixedNow.addingTimeInterval(-86_400),
                                              notAfter: fixedNow.addingTimeInterval(365 * 86_400))
        self.verifier = IdentityVerifier(caCertificate: self.ca.certificate)
    }

    @Test("A valid certificate yields its identity")
    func valid() throws {
        let issued = try TestCertificates.issue(name: "hospital-01", role: .site, ca: self.ca, organization: "One",
                                                notBefore: self.now.addingTimeInterval(-60),
                                                notAfter: self.now.addingTimeInterval(60))
        let identity = try self.verifier.identity(of: issued.certificate, now: self.now)
        #expect(identity.name == "hospital-01")
        #expect(identity.role == .site)
        #expect(identity.organization == "One")
        #expect(identity.project == "hospital-net")
        #expect(identity.serialHex == issued.certificate.serialHex)
        #expect(identity.fingerprint == (try issued.certificate.sha256Fingerprint()))
        // The verifier works from PEM text as a server would receive it.
        let reparsed = try Certificate.parse(pem: issued.certificatePEM, source: "test")
        #expect(try self.verifier.identity(of: reparsed, now: self.now) == identity)
    }

    @Test("Expired, not-yet-valid and foreign certificates each have their own error")
    func refusals() throws {
        let expired = try TestCertificates.issue(name: "old", role: .site, ca: self.ca,
                                                 notBefore: self.now.addingTimeInterval(-7200),
                                                 notAfter: self.now.addingTimeInterval(-3600))
        let early = try TestCertificates.issue(name: "early", role: .site, ca: self.ca,
                                               notBefore: self.now.addingTimeInterval(3600),
                                               notAfter: self.now.addingTimeInterval(7200))
        // Same project name, so the issuer DN matches: only the signature tells them apart.
        let foreignCA = try TestCertificates.makeCA(name: "hospital-net")
        #expect(foreignCA.certificate.subject == self.ca.certificate.subject)
        let foreign = try TestCertificates.issue(name: "hospital-01", role: .site, ca: foreignCA,
                                                 notBefore: self.now.addingTimeInterval(-60),
                                                 notAfter: self.now.addingTimeInterval(60))
        let codes = [
            expectPKIError(.certificateExpired) { try self.verifier.identity(of: expired.certificate, now: self.now) },
            expectPKIError(.certificateNotYetValid) { try self.verifier.identity(of: early.certificate, now: self.now) },
            expectPKIError(.untrustedCertificate) { try self.verifier.identity(of: foreign.certificate, now: self.now) },
        ].compactMap { $0?.code }
        #expect(Set(codes).count == 3)
        // The same certificates pass at a time they are valid (only the clock made them fail).
        #expect(try self.verifier.identity(of: expired.certificate, now: self.now.addingTimeInterval(-5000)).name == "old")
        #expect(try self.verifier.identity(of: early.certificate, now: self.now.addingTimeInterval(5000)).name == "early")
    }

    @Test("The CA's own certificate and certificates without a role are not identities")
    func notParticipants() throws {
        expectPKIError(.invalidIdentity) { try self.verifier.identity(of: self.ca.certificate, now: self.now) }
        let key = P256.Signing.PrivateKey()
        let plain = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: self.now.addingTimeInterval(-60), notValidAfter: self.now.addingTimeInterval(60),
            issuer: self.ca.certificate.subject, subject: try DistinguishedName { CommonName("someone") },
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: .init(self.ca.privateKey))
        let error = expectPKIError(.invalidIdentity) { try self.verifier.identity(of: plain, now: self.now) }
        #expect(error?.message.contains("role") == true)
    }

    @Test("commonName reads the most specific CN")
    func commonName() throws {
        let name = try DistinguishedName {
            CommonName("outer")
            OrganizationName("Org")
            OrganizationalUnitName("p")
            OrganizationalUnitName("site")
            CommonName("inner")
        }
        #expect(name.commonName == "inner")
        #expect(name.organizationName == "Org")
        #expect(name.organizationalUnitNames == ["p", "site"])
        #expect(DistinguishedName().commonName == nil)
    }
}
