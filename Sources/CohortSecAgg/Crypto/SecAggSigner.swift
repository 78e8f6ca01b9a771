public import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A participant's long-term signing key, which authenticates its per-round public keys.
///
/// Ed25519 (``Ed25519Signer``) is the built-in implementation; a network deployment can adopt this protocol with
/// the key behind the site's certificate.
public protocol SecAggSigner: Sendable {
    /// Signs `message`.
    func signature(for message: [UInt8]) throws(SecAggError) -> [UInt8]
}

/// Verifies participants' signatures with their long-term public keys.
public protocol SecAggSignatureVerifier: Sendable {
    /// Whether `signature` is `participant`'s valid signature of `message`.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8], from participant: String) -> Bool
}

/// An Ed25519 long-term signing key.
public struct Ed25519Signer: SecAggSigner {
    /// The private key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// Wraps a private key.
    public init(privateKey: Curve25519.Signing.PrivateKey) { self.privateKey = privateKey }

    /// A fresh key from the system CSPRNG.
    public init() { self.privateKey = Curve25519.Signing.PrivateKey() }

    /// A key from 32 bytes of the given generator (deterministic keys for tests and simulation).
    public init(using randomness: inout some RandomNumberGenerator) {
        let seed = (0..<4).flatMap { _ in withUnsafeBytes(of: randomness.next().littleEndian, Array.init) }
        // 32 bytes are always a valid Ed25519 seed.
        self.privateKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The raw 32-byte public key, as listed in ``SecAggConfiguration/signingKeys``.
    public var publicKeyBytes: [UInt8] { Array(self.privateKey.publicKey.rawRepresentation) }

    public func signature(for message: [UInt8]) throws(SecAggError) -> [UInt8] {
        do {
            return Array(try self.privateKey.signature(for: message))
        } catch {
            throw SecAggError(code: .invalidKey, message: "Ed25519 signing failed: \(error)")
        }
    }
}

/// Verifies Ed25519 signatures against a table of raw public keys (``SecAggConfiguration/signingKeys``).
public struct Ed25519Verifier: SecAggSignatureVerifier {
    private let keys: [String: Curve25519.Signing.PublicKey]

    /// Parses the raw 32-byte public keys; keys that do not parse are left out (their signatures never verify).
    public init(publicKeys: [String: [UInt8]]) {
        var keys = [String: Curve25519.Signing.PublicKey]()
        for (id, raw) in publicKeys {
            if let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) { keys[id] = key }
        }
        self.keys = keys
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], from participant: String) -> Bool {
        guard let key = self.keys[participant] else { return false }
        return key.isValidSignature(signature, for: message)
    }
}
