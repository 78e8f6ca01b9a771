/// A problem with provisioning, a startup kit, a certificate or a configuration file.
///
/// The description reads `FILE: KEY: MESSAGE (HINT)`, so a person can open the file at the key, and the hint says
/// what to do about it. Compare errors by ``code``: the message is for people and may change.
public struct PKIError: Error, Hashable, CustomStringConvertible {
    /// Kinds of PKI errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// `project.yaml` is malformed or fails validation.
        public static let invalidProject = Code("invalid-project")
        /// A kit configuration file (`coordinator.yaml`, `site.yaml`, `admin.yaml`) is malformed or invalid.
        public static let invalidConfig = Code("invalid-config")
        /// A file could not be read or written.
        public static let io = Code("io")
        /// The workspace already holds a CA; provisioning again would orphan every issued kit.
        public static let workspaceExists = Code("workspace-exists")
        /// The directory is not a provisioned workspace (no CA or participant registry).
        public static let notAWorkspace = Code("not-a-workspace")
        /// A participant with that name already exists.
        public static let duplicateParticipant = Code("duplicate-participant")
        /// No participant has that name.
        public static let unknownParticipant = Code("unknown-participant")
        /// The participant was already revoked.
        public static let alreadyRevoked = Code("already-revoked")
        /// The request is not allowed (e.g. adding a second coordinator).
        public static let notAllowed = Code("not-allowed")
        /// A kit directory lacks a required file, or has more than one role config.
        public static let incompleteKit = Code("incomplete-kit")
        /// A private key file is readable by group or others.
        public static let keyPermissions = Code("key-permissions")
        /// A certificate or key could not be parsed.
        public static let malformedCertificate = Code("malformed-certificate")
        /// A private key could not be parsed.
        public static let malformedKey = Code("malformed-key")
        /// The certificate was not issued by the trusted CA (foreign CA or bad signature).
        public static let untrustedCertificate = Code("untrusted-certificate")
        /// The certificate's validity period has ended.
        public static let certificateExpired = Code("certificate-expired")
        /// The certificate's validity period has not started yet.
        public static let certificateNotYetValid = Code("certificate-not-yet-valid")
        /// The certificate lacks a Cohort role or name, or is a CA certificate.
        public static let invalidIdentity = Code("invalid-identity")
        /// The private key does not belong to the certificate.
        public static let keyMismatch = Code("key-mismatch")
        /// The certificate's role differs from the kit configuration's role.
        public static let roleMismatch = Code("role-mismatch")
        /// The certificate's name (CN) differs from the configuration's `name`.
        public static let nameMismatch = Code("name-mismatch")
        /// The certificate's project differs from the configuration's `project`.
        public static let projectMismatch = Code("project-mismatch")
        /// The participant's certificate is revoked.
        public static let revoked = Code("revoked")
        /// A revocation list is malformed or its signature does not verify.
        public static let invalidRevocationList = Code("invalid-revocation-list")
    }

    public var code: Code
    /// The file concerned (as given by the caller), if any.
    public var file: String?
    /// The key path inside the file, e.g. `sites[2].name`.
    public var key: String?
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ code: Code, file: String? = nil, key: String? = nil, _ message: String, hint: String? = nil) {
        self.code = code
        self.file = file
        self.key = key
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var s = ""
        if let file = self.file { s += file + ": " }
        if let key = self.key, !key.isEmpty { s += key + ": " }
        s += self.message
        if let hint = self.hint { s += " (\(hint))" }
        return s
    }
}
