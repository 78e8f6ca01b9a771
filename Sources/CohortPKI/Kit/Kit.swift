public import Crypto
public import Foundation
public import X509

/// A participant's startup kit, loaded and checked: its configuration, certificate, private key and project CA.
///
/// ```swift
/// let kit = try Kit.load(from: URL(fileURLWithPath: "kits/hospital-01"))
/// guard case .site(let config) = kit.config else { ... }
/// ```
/// Loading checks, each failure with its own ``PKIError/Code-swift.struct`` and a message saying what to do:
/// exactly one role config (`incompleteKit`), all files present (`incompleteKit`), `key.pem` mode 0600 or stricter
/// (`keyPermissions`), parsable files (`invalidConfig`, `malformedCertificate`, `malformedKey`), the certificate issued by
/// `ca.pem` (`untrustedCertificate`), the key belonging to the certificate (`keyMismatch`), and the certificate's
/// role, name and project matching the config (`roleMismatch`, `nameMismatch`, `projectMismatch`). Validity dates are
/// not checked here; use ``IdentityVerifier`` (as `cohort doctor` does).
public struct Kit: Sendable {
    public static let certificateFileName = "cert.pem"
    public static let privateKeyFileName = "key.pem"
    public static let caFileName = "ca.pem"
    public static let revocationsFileName = "revocations.json"

    public let directory: URL
    public let config: KitConfig
    public let certificate: Certificate
    public let certificatePEM: String
    public let privateKey: P256.Signing.PrivateKey
    public let privateKeyPEM: String
    public let caCertificate: Certificate
    public let caPEM: String
    /// The identity the certificate claims.
    public let identity: PeerIdentity

    public var role: Role { self.config.role }
    public var name: String { self.config.name }
    public var certificateFile: URL { self.directory.appendingPathComponent(Self.certificateFileName) }
    public var privateKeyFile: URL { self.directory.appendingPathComponent(Self.privateKeyFileName) }
    public var caFile: URL { self.directory.appendingPathComponent(Self.caFileName) }
    public var configFile: URL { self.directory.appendingPathComponent(self.role.configFileName) }
    /// Where a coordinator looks for the operator's signed revocation list.
    public var revocationsFile: URL { self.directory.appendingPathComponent(Self.revocationsFileName) }

    /// The checks ``load(from:checks:)`` performs; tests of rejected peers switch some off.
    package struct Checks: OptionSet, Sendable {
        package let rawValue: Int
        package init(rawValue: Int) { self.rawValue = rawValue }

        package static let keyPermissions = Checks(rawValue: 1 << 0)
        package static let issuedByCA = Checks(rawValue: 1 << 1)
        package static let keyMatchesCertificate = Checks(rawValue: 1 << 2)
        package static let identityMatchesConfig = Checks(rawValue: 1 << 3)
        package static let all: Checks = [.keyPermissions, .issuedByCA, .keyMatchesCertificate, .identityMatchesConfig]
    }

    /// Loads and checks the kit in `directory`.
    public static func load(from directory: URL) throws(PKIError) -> Kit {
        try Self.load(from: directory, checks: .all)
    }

    /// Loads the kit, performing only `checks` (files must still exist and parse).
    package static func load(from directory: URL, checks: Checks) throws(PKIError) -> Kit {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw PKIError(.incompleteKit, file: directory.path, "no kit directory here",
                           hint: "pass the directory your operator sent, e.g. --kit kits/NAME")
        }
        let roles = Role.allCases.filter { SecureFile.exists(directory.appendingPathComponent($0.configFileName)) }
        guard roles.count == 1, let role = roles.first else {
            let names = Role.allCases.map(\.configFileName).joined(separator: ", ")
            throw PKIError(.incompleteKit, file: directory.path,
                           roles.isEmpty ? "the kit has no role config (\(names))"
                               : "the kit has more than one role config: "
                               + roles.map(\.configFileName).joined(separator: ", "),
                           hint: "a kit holds exactly one of \(names); use the kit as provisioned")
        }
        for file in [Self.certificateFileName, Self.privateKeyFileName, Self.caFileName]
        where !SecureFile.exists(directory.appendingPathComponent(file)) {
            throw PKIError(.incompleteKit, file: directory.appendingPathComponent(file).path, "the file is missing",
                           hint: "a kit holds cert.pem, key.pem, ca.pem and \(role.configFileName); ask the operator")
        }
        let keyFile = directory.appendingPathComponent(Self.privateKeyFileName)
        if checks.contains(.keyPermissions), let mode = SecureFile.mode(of: keyFile), mode & 0o077 != 0 {
            throw PKIError(.keyPermissions, file: keyFile.path,
                           "the private key is readable by other users (mode \(String(mode, radix: 8)))",
                           hint: "run `chmod 600 \(keyFile.path)`")
        }
        let configFile = directory.appendingPathComponent(role.configFileName)
        let config = try KitConfig.load(role: role, from: configFile)
        let certificateFile = directory.appendingPathComponent(Self.certificateFileName)
        let certificatePEM = try ConfigCoding.read(certificateFile, what: "certificate")
        let certificate = try Certificate.parse(pem: certificatePEM, source: certificateFile.path)
        let privateKeyPEM = try ConfigCoding.read(keyFile, what: "private key")
        let privateKey = try PrivateKeys.parse(pem: privateKeyPEM, source: keyFile.path)
        let caFile = directory.appendingPathComponent(Self.caFileName)
        let caPEM = try ConfigCoding.read(caFile, what: "CA certificate")
        let caCertificate = try Certificate.parse(pem: caPEM, source: caFile.path)

        if checks.contains(.issuedByCA), !certificate.isIssued(by: caCertificate) {
            throw PKIError(.untrustedCertificate, file: certificateFile.path,
                           "the certificate was not issued by this kit's CA (\(caFile.lastPathComponent))",
                           hint: "cert.pem and ca.pem come from different projects; use the kit exactly as provisioned")
        }
        if checks.contains(.keyMatchesCertificate), !certificate.matches(privateKey: privateKey) {
            throw PKIError(.keyMismatch, file: keyFile.path, "the private key does not belong to cert.pem",
                           hint: "key.pem was replaced or mixed up with another kit's; restore the kit as provisioned")
        }
        let identity = try Self.identity(of: certificate, file: certificateFile.path)
        if checks.contains(.identityMatchesConfig) {
            try Self.check(identity, against: config, certificateFile: certificateFile, configFile: configFile)
        }
        return Kit(directory: directory, config: config, certificate: certificate, certificatePEM: certificatePEM,
                   privateKey: privateKey, privateKeyPEM: privateKeyPEM, caCertificate: caCertificate, caPEM: caPEM,
                   identity: identity)
    }

    private init(directory: URL, config: KitConfig, certificate: Certificate, certificatePEM: String,
                 privateKey: P256.Signing.PrivateKey, privateKeyPEM: String, caCertificate: Certificate, caPEM: String,
                 identity: PeerIdentity) {
        self.directory = directory
        self.config = config
        self.certificate = certificate
        self.certificatePEM = certificatePEM
        self.privateKey = privateKey
        self.privateKeyPEM = privateKeyPEM
        self.caCertificate = caCertificate
        self.caPEM = caPEM
        self.identity = identity
    }

    private static func identity(of certificate: Certificate, file: String) throws(PKIError) -> PeerIdentity {
        do { return try PeerIdentity(claimedBy: certificate) } catch {
            var located = error
            located.file = file
            throw located
        }
    }

    /// The certificate's role, name and project must be the config's.
    private static func check(_ identity: PeerIdentity, against config: KitConfig, certificateFile: URL,
                              configFile: URL) throws(PKIError) {
        let fix = "edit \(configFile.lastPathComponent) or use the kit as provisioned"
        guard identity.role == config.role else {
            throw PKIError(.roleMismatch, file: certificateFile.path,
                           "the certificate is for a \(identity.role.rawValue), but the kit holds "
                               + "\(config.role.configFileName)",
                           hint: "a \(identity.role.rawValue) kit needs \(identity.role.configFileName)")
        }
        guard identity.name == config.name else {
            throw PKIError(.nameMismatch, file: configFile.path, key: "name",
                           "'\(config.name)' differs from the certificate's name '\(identity.name)'", hint: fix)
        }
        if let project = identity.project, project != config.project {
            throw PKIError(.projectMismatch, file: configFile.path, key: "project",
                           "'\(config.project)' differs from the certificate's project '\(project)'", hint: fix)
        }
    }

    /// This kit with another configuration of the same role and identity (a command-line override).
    public func replacing(config: KitConfig) -> Kit {
        Kit(directory: self.directory, config: config, certificate: self.certificate, certificatePEM: self.certificatePEM,
            privateKey: self.privateKey, privateKeyPEM: self.privateKeyPEM, caCertificate: self.caCertificate, caPEM: self.caPEM,
            identity: self.identity)
    }

    /// The coordinator's revocation list from ``revocationsFile``, verified with the kit's CA; nil if absent.
    public func loadRevocations() throws(PKIError) -> RevocationList? {
        guard SecureFile.exists(self.revocationsFile) else { return nil }
        return try RevocationList.load(from: self.revocationsFile, caCertificate: self.caCertificate)
    }

    /// A verifier that trusts this kit's CA.
    public var identityVerifier: IdentityVerifier { IdentityVerifier(caCertificate: self.caCertificate) }
}
