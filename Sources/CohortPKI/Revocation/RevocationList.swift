import Crypto
public import Foundation
public import X509

/// The project's signed list of revoked participant certificates, `revocations.json`.
///
/// The signature is ECDSA P-256 (SHA-256) by the project CA over ``signedPayload()``: the JSON encoding, with sorted
/// keys and ISO 8601 dates in whole seconds, of `format`, `project`, `sequence`, `issued_at` and `entries` (everything
/// but the signature). `signature` holds the DER signature in base64. Each new list has a higher `sequence`, so a
/// coordinator can refuse to go back to an older list.
public struct RevocationList: Codable, Sendable, Hashable {
    /// One revoked certificate.
    public struct Entry: Codable, Sendable, Hashable {
        /// The participant name.
        public var name: String
        /// The certificate serial number, lowercase hex.
        public var serialHex: String
        /// Lowercase hex SHA-256 of the DER certificate.
        public var fingerprint: String
        public var revokedAt: Date
        public var reason: String

        enum CodingKeys: String, CodingKey {
            case name, fingerprint, reason
            case serialHex = "serial"
            case revokedAt = "revoked_at"
        }

        public init(name: String, serialHex: String, fingerprint: String, revokedAt: Date, reason: String) {
            self.name = name
            self.serialHex = serialHex.lowercased()
            self.fingerprint = fingerprint.lowercased()
            self.revokedAt = revokedAt
            self.reason = reason
        }
    }

    /// Names the payload format, so a signature over this payload cannot be mistaken for one over something else.
    public static let format = "cohort-revocations-v1"

    public var project: String
    /// Increases by one with each list the CA signs.
    public var sequence: Int
    public var issuedAt: Date
    public var entries: [Entry]
    /// Base64 DER ECDSA signature over ``signedPayload()``.
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case project, sequence, entries, signature
        case issuedAt = "issued_at"
    }

    /// The part of the list that is signed.
    private struct Payload: Encodable {
        var format: String
        var project: String
        var sequence: Int
        var issuedAt: Date
        var entries: [Entry]

        enum CodingKeys: String, CodingKey {
            case format, project, sequence, entries
            case issuedAt = "issued_at"
        }
    }

    public init(project: String, sequence: Int, issuedAt: Date, entries: [Entry], signature: String) {
        self.project = project
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.entries = entries
        self.signature = signature
    }

    /// A list signed by `authority`; dates are truncated to whole seconds so the JSON round trip keeps the signature.
    public static func signed(project: String, sequence: Int, issuedAt: Date, entries: [Entry],
                              by authority: CertificateAuthority) throws(PKIError) -> RevocationList {
        func whole(_ d: Date) -> Date { Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down)) }
        var list = RevocationList(
            project: project, sequence: sequence, issuedAt: whole(issuedAt),
            entries: entries.map { var e = $0; e.revokedAt = whole(e.revokedAt); return e }, signature: "")
        do {
            let signature = try authority.privateKey.signature(for: try list.signedPayload())
            list.signature = signature.derRepresentation.base64EncodedString()
        } catch {
            throw PKIError(.invalidRevocationList, "cannot sign the revocation list: \(error)")
        }
        return list
    }

    /// The canonical bytes the signature covers.
    public func signedPayload() throws(PKIError) -> Data {
        let payload = Payload(format: Self.format, project: self.project, sequence: self.sequence,
                              issuedAt: self.issuedAt, entries: self.entries)
        do { return try Self.encoder().encode(payload) } catch {
            throw PKIError(.invalidRevocationList, "cannot encode the revocation list: \(error)")
        }
    }

    /// Throws ``PKIError/Code-swift.struct/invalidRevocationList`` unless the CA's key signed this list.
    public func verify(caCertificate: Certificate) throws(PKIError) {
        guard let key = P256.Signing.PublicKey(caCertificate.publicKey) else {
            throw PKIError(.invalidRevocationList, "the CA certificate has no P-256 key")
        }
        guard let der = Data(base64Encoded: self.signature),
              let signature = try? P256.Signing.ECDSASignature(derRepresentation: der),
              key.isValidSignature(signature, for: try self.signedPayload())
        else {
            throw PKIError(.invalidRevocationList,
                           "the revocation list (sequence \(self.sequence)) is not signed by this project's CA",
                           hint: "copy revocations.json again from the provisioning workspace; never edit it by hand")
        }
    }

    /// Whether a serial number (hex, any case) is revoked.
    public func isRevoked(serial: String) -> Bool {
        let serial = serial.lowercased()
        return self.entries.contains { $0.serialHex == serial }
    }

    /// Whether a certificate fingerprint (hex SHA-256, any case) is revoked.
    public func isRevoked(fingerprint: String) -> Bool {
        let fingerprint = fingerprint.lowercased()
        return self.entries.contains { $0.fingerprint == fingerprint }
    }

    /// The JSON file text (pretty-printed, sorted keys).
    public func jsonData() throws(PKIError) -> Data {
        let encoder = Self.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        do { return try encoder.encode(self) } catch {
            throw PKIError(.invalidRevocationList, "cannot encode the revocation list: \(error)")
        }
    }

    /// Parses `revocations.json` without checking the signature.
    public static func parse(json: Data, source: String) throws(PKIError) -> RevocationList {
        do { return try Self.decoder().decode(Self.self, from: json) } catch {
            throw PKIError(.invalidRevocationList, file: source, "not a revocation list: \(error)")
        }
    }

    /// Loads `revocations.json` and checks its signature with the CA.
    public static func load(from url: URL, caCertificate: Certificate) throws(PKIError) -> RevocationList {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PKIError(.io, file: url.path, "cannot read the revocation list: \(error.localizedDescription)")
        }
        let list = try Self.parse(json: data, source: url.path)
        do { try list.verify(caCertificate: caCertificate) } catch {
            var located = error
            located.file = url.path
            throw located
        }
        return list
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
