public import Foundation

/// The layout of a provisioning workspace, the operator's directory that holds the CA key:
/// ```
/// WORKSPACE/project.yaml        the project definition (kept up to date by add-participant)
/// WORKSPACE/ca/ca.pem           the project CA certificate
/// WORKSPACE/ca/ca.key           the CA private key (0600; never leaves this directory)
/// WORKSPACE/participants.json   every issued certificate (ParticipantRegistry)
/// WORKSPACE/revocations.json    the signed RevocationList, once something is revoked
/// WORKSPACE/kits/NAME/          one startup kit per participant, to hand over securely
/// ```
public struct Workspace: Sendable, Hashable {
    public let url: URL

    public init(url: URL) { self.url = url }

    public var projectFile: URL { self.url.appendingPathComponent("project.yaml") }
    public var caDirectory: URL { self.url.appendingPathComponent("ca", isDirectory: true) }
    public var caCertificateFile: URL { self.caDirectory.appendingPathComponent("ca.pem") }
    public var caKeyFile: URL { self.caDirectory.appendingPathComponent("ca.key") }
    public var participantsFile: URL { self.url.appendingPathComponent("participants.json") }
    public var revocationsFile: URL { self.url.appendingPathComponent("revocations.json") }
    public var kitsDirectory: URL { self.url.appendingPathComponent("kits", isDirectory: true) }

    /// The kit directory of a participant.
    public func kitDirectory(for name: String) -> URL {
        self.kitsDirectory.appendingPathComponent(name, isDirectory: true)
    }

    /// Throws ``PKIError/Code-swift.struct/notAWorkspace`` unless the CA, registry and project file are present.
    func requireProvisioned() throws(PKIError) {
        for file in [self.caCertificateFile, self.caKeyFile, self.participantsFile, self.projectFile]
        where !SecureFile.exists(file) {
            throw PKIError(.notAWorkspace, file: self.url.path,
                           "not a provisioned workspace: \(file.lastPathComponent) is missing",
                           hint: "run `cohort provision project.yaml --workspace \(self.url.path)` first")
        }
    }

    /// Loads the CA certificate and key.
    func loadAuthority() throws(PKIError) -> CertificateAuthority {
        try CertificateAuthority.load(certificateFile: self.caCertificateFile, keyFile: self.caKeyFile)
    }
}
