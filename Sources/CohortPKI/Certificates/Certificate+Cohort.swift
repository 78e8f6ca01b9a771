public import Crypto
import Foundation
import SwiftASN1
public import X509

extension Certificate {
    /// The DER encoding of the certificate.
    public func derBytes() throws(PKIError) -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(self)
            return serializer.serializedBytes
        } catch {
            throw PKIError(.malformedCertificate, "cannot encode the certificate: \(error)")
        }
    }

    /// The PEM text of the certificate (`-----BEGIN CERTIFICATE-----`).
    public func pemString() throws(PKIError) -> String {
        do { return try self.serializeAsPEM().pemString + "\n" } catch {
            throw PKIError(.malformedCertificate, "cannot encode the certificate: \(error)")
        }
    }

    /// Lowercase hex SHA-256 of the DER encoding, the fingerprint `openssl x509 -fingerprint -sha256` shows
    /// (without colons).
    public func sha256Fingerprint() throws(PKIError) -> String {
        Hex.encode(SHA256.hash(data: try self.derBytes()))
    }

    /// The serial number as lowercase hex, two digits per byte.
    public var serialHex: String { Hex.encode(self.serialNumber.bytes) }

    /// Parses one PEM certificate; `source` names the file in errors.
    public static func parse(pem: String, source: String) throws(PKIError) -> Certificate {
        do { return try Certificate(pemEncoded: pem) } catch {
            throw PKIError(.malformedCertificate, file: source, "not a PEM certificate: \(error)",
                           hint: "the file should start with -----BEGIN CERTIFICATE-----")
        }
    }

    /// Whether `issuer`'s key signed this certificate and the issuer names match.
    public func isIssued(by issuer: Certificate) -> Bool {
        self.issuer == issuer.subject && issuer.publicKey.isValidSignature(self.signature, for: self)
    }

    /// Whether `key` is the private key of this certificate's public key.
    public func matches(privateKey key: P256.Signing.PrivateKey) -> Bool {
        guard let publicKey = P256.Signing.PublicKey(self.publicKey) else { return false }
        return publicKey.derRepresentation == key.publicKey.derRepresentation
    }
}

/// Lowercase hex encoding.
enum Hex {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
