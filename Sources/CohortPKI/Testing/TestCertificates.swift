package import Foundation
import X509

/// Certificates for tests of rejected peers: expired, not yet valid, or from a foreign CA.
///
/// Package-internal: used by this module's tests and by other modules' end-to-end tests, never by the product.
/// ```swift
/// let foreign = try TestCertificates.makeCA(name: "hospital-net")        // same name, different key
/// let rogue = try TestCertificates.issue(name: "hospital-01", role: .site, ca: foreign)
/// try TestCertificates.install(rogue, inKit: kitDirectory)               // replaces cert.pem and key.pem
/// ```
package enum TestCertificates {
    /// A new CA for project `name` (subject `O=<name>, CN=<name> Cohort CA`), valid from `notBefore` to `notAfter`.
    package static func makeCA(name: String, notBefore: Date = Date().addingTimeInterval(-3600),
                               notAfter: Date = Date().addingTimeInterval(365 * 86_400)) throws(PKIError)
        -> CertificateAuthority
    {
        try CertificateAuthority.create(project: name, notBefore: notBefore, notAfter: notAfter)
    }

    /// The CA of a provisioned workspace.
    package static func loadCA(workspace: URL) throws(PKIError) -> CertificateAuthority {
        try Workspace(url: workspace).loadAuthority()
    }

    /// A participant certificate with arbitrary dates (defaults: valid for the hour around now).
    package static func issue(name: String, role: Role, ca: CertificateAuthority, organization: String = "Test",
                              project: String? = nil, notBefore: Date = Date().addingTimeInterval(-1800),
                              notAfter: Date = Date().addingTimeInterval(1800), dnsNames: [String] = [],
                              ipAddresses: [String] = []) throws(PKIError) -> IssuedCertificate {
        let project = project ?? ca.certificate.subject.organizationName
        return try ca.issue(name: name, role: role, organization: organization, project: project,
                            notBefore: notBefore, notAfter: notAfter, dnsNames: dnsNames, ipAddresses: ipAddresses)
    }

    /// Replaces a kit's `cert.pem` and `key.pem` (mode 0600) with `issued`.
    package static func install(_ issued: IssuedCertificate, inKit directory: URL) throws(PKIError) {
        try SecureFile.replace(directory.appendingPathComponent(Kit.certificateFileName),
                               contents: Data(issued.certificatePEM.utf8))
        try SecureFile.replace(directory.appendingPathComponent(Kit.privateKeyFileName),
                               contents: Data(issued.privateKeyPEM.utf8), mode: 0o600)
    }
}
