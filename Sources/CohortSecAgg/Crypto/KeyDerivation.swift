import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Key derivations and transcripts, each domain-separated by its own label.
///
/// Every X25519 shared secret goes through HKDF-SHA256 with the salt `"cohort-secagg/v1"` and an info string made
/// of length-prefixed fields: a purpose label, the session id and the participant ids involved. Keys for one pair,
/// one purpose and one session are therefore independent of every other key, and nothing carries over between
/// rounds.
enum KeyDerivation {
    static let salt = Array("cohort-secagg/v1".utf8)

    /// Fields joined with 4-byte big-endian length prefixes (an unambiguous encoding).
    static func encode(_ fields: [[UInt8]]) -> [UInt8] {
        var out = [UInt8]()
        for f in fields {
            let n = UInt32(f.count)
            out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            out += f
        }
        return out
    }

    static func info(_ label: String, _ session: String, _ ids: [String]) -> [UInt8] {
        Self.encode([Array(label.utf8), Array(session.utf8)] + ids.map { Array($0.utf8) })
    }

    static func sharedSecret(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey, _ publicKey: Curve25519.KeyAgreement.PublicKey
    ) throws(SecAggError) -> SharedSecret {
        do {
            return try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        } catch {
            throw SecAggError(code: .invalidKey, message: "X25519 key agreement failed: \(error)")
        }
    }

    static func derive(_ secret: SharedSecret, info: [UInt8]) -> SymmetricKey {
        secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: Self.salt, sharedInfo: info, outputByteCount: 32)
    }

    /// The AES-GCM key for shares sent from `sender` to `recipient` (one key per direction), from the X25519 secret
    /// of the two share-encryption keys (computed once per pair and used for both directions).
    static func shareEncryptionKey(_ secret: SharedSecret, session: String, sender: String, recipient: String) -> SymmetricKey {
        Self.derive(secret, info: Self.info("share-encryption", session, [sender, recipient]))
    }

    /// The 256-bit seed of the pairwise mask between two participants; `first` precedes `second` in the
    /// participant order, so both ends derive the same key.
    static func pairwiseMaskKey(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey, _ peer: Curve25519.KeyAgreement.PublicKey, session: String,
        first: String, second: String
    ) throws(SecAggError) -> SymmetricKey {
        Self.derive(try Self.sharedSecret(privateKey, peer), info: Self.info("pairwise-mask", session, [first, second]))
    }

    /// The 256-bit key of a client's self mask, from its 32-byte seed `b_u`.
    static func selfMaskKey(seed: [UInt8], session: String, owner: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: seed), salt: Self.salt,
            info: Self.info("self-mask", session, [owner]), outputByteCount: 32)
    }

    /// The bytes a client signs to bind its round keys to its identity and the session.
    static func advertisementTranscript(session: String, sender: String, encryptionKey: [UInt8], maskingKey: [UInt8]) -> [UInt8] {
        Self.encode([Array("advertise-keys".utf8), Array(session.utf8), Array(sender.utf8), encryptionKey, maskingKey])
    }

    /// Associated data of an encrypted share: the session and the sender and recipient ids, so a share moved to
    /// another recipient, attributed to another sender or replayed in another round fails authentication.
    static func shareAssociatedData(session: String, sender: String, recipient: String) -> [UInt8] {
        Self.info("share", session, [sender, recipient])
    }
}
