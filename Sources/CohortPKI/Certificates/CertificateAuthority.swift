public import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A project's certificate authority: a self-signed P-256 certificate and its key, which issue participant
/// certificates.
///
/// Certificate layout (one level: the CA signs every participant directly):
/// - CA: subject `O=<project>, CN=<project> Cohort CA`; BasicConstraints CA with path length 0 and KeyUsage
///   keyCertSign + cRLSign, both critical; SubjectKeyIdentifier.
/// - Participant: subject `O=<organization>, OU=<project>, OU=<role>, CN=<name>` (the role is the OU next to the CN,
///   the project the OU before it); BasicConstraints not-CA and KeyUsage digitalSignature, both critical;
///   ExtendedKeyUsage serverAuth + clientAuth for the coordinator and aggregators and clientAuth otherwise; SAN
///   for their hosts and addresses; SubjectKeyIdentifier and AuthorityKeyIdentifier.
///
/// Every key is ECDSA P-256, every signature ecdsaWithSHA256, every serial number 20 random bytes.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    /// Wraps an existing CA certificate and key; throws ``PKIError/Code-swift.struct/keyMismatch`` if they differ.
    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws(PKIError) {
        guard certificate.matches(privateKey: privateKey) else {
            throw PKIError(.keyMismatch, "the CA key does not belong to the CA certificate")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Creates a new self-signed CA for `project`, valid from `notBefore` to `notAfter`.
    public static func create(project: String, organization: String? = nil, notBefore: Date, notAfter: Date)
        throws(PKIError) -> CertificateAuthority
    {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = Self.authorityName(project: project, organization: organization)
        do {
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.malformedCertificate, "cannot create the CA certificate: \(error)")
        }
    }

    /// The CA's subject: `O=<organization or project>, CN=<project> Cohort CA`.
    static func authorityName(project: String, organization: String?) -> DistinguishedName {
        (try? DistinguishedName {
            OrganizationName(organization ?? project)
            CommonName("\(project) Cohort CA")
        }) ?? DistinguishedName()
    }

    /// Loads a CA from its certificate and key files.
    public static func load(certificateFile: URL, keyFile: URL) throws(PKIError) -> CertificateAuthority {
        let certificate = try Certificate.parse(
            pem: ConfigCoding.read(certificateFile, what: "CA certificate"), source: certificateFile.path)
        let key = try PrivateKeys.parse(pem: ConfigCoding.read(keyFile, what: "CA key"), source: keyFile.path)
        do { return try CertificateAuthority(certificate: certificate, privateKey: key) } catch {
            throw PKIError(.keyMismatch, file: keyFile.path, "the CA key does not belong to \(certificateFile.path)")
        }
    }

    /// The CA certificate as PEM.
    public func certificatePEM() throws(PKIError) -> String { try self.certificate.pemString() }

    /// Issues a participant certificate with a fresh P-256 key.
    ///
    /// - Parameters:
    ///   - name: The CN; also the participant name.
    ///   - project: Written as the first OU; nil leaves it out.
    ///   - dnsNames, ipAddresses: Subject alternative names (IP addresses as text, e.g. `127.0.0.1`).
    public func issue(name: String, role: Role, organization: String, project: String?, notBefore: Date,
                      notAfter: Date, dnsNames: [String] = [], ipAddresses: [String] = []) throws(PKIError)
        -> IssuedCertificate
    {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = IPAddress.bytes(address) else {
                throw PKIError(.invalidProject, "'\(address)' is not an IP address")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let usages: [ExtendedKeyUsage.Usage] = role.isServer ? [.serverAuth, .clientAuth] : [.clientAuth]
        let authorityKeyID = (try? self.certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
            ?? SubjectKeyIdentifier(hash: self.certificate.publicKey).keyIdentifier
        do {
            let subject = try DistinguishedName {
                OrganizationName(organization)
                if let project { OrganizationalUnitName(project) }
                OrganizationalUnitName(role.rawValue)
                CommonName(name)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(usages)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: self.certificate.subject,
                subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(self.privateKey))
            return try IssuedCertificate(certificate: certificate, privateKey: key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.malformedCertificate, "cannot issue a certificate for '\(name)': \(error)")
        }
    }
}

/// A certificate and its private key, with their PEM texts.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey
    /// `-----BEGIN CERTIFICATE-----` text.
    public let certificatePEM: String
    /// PKCS#8 `-----BEGIN PRIVATE KEY-----` text.
    public let privateKeyPEM: String

    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws(PKIError) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificatePEM = try certificate.pemString()
        self.privateKeyPEM = privateKey.pemRepresentation + "\n"
    }
}

/// Parsing of private key files.
enum PrivateKeys {
    /// Parses a P-256 key in PKCS#8 or SEC1 PEM.
    static func parse(pem: String, source: String) throws(PKIError) -> P256.Signing.PrivateKey {
        do { return try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw PKIError(.malformedKey, file: source, "not a P-256 private key in PEM: \(error)",
                           hint: "Cohort kits hold ECDSA P-256 keys (-----BEGIN PRIVATE KEY-----)")
        }
    }
}
