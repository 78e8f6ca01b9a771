public import Crypto

/// A long-term ECDSA P-256 key, e.g. the key behind a site's certificate: what the network uses, so that a
/// participant's round keys are bound to the identity the project CA certified.
public struct P256Signer: SecAggSigner {
    public let privateKey: P256.Signing.PrivateKey

    public init(privateKey: P256.Signing.PrivateKey) { self.privateKey = privateKey }

    public func signature(for message: [UInt8]) throws(SecAggError) -> [UInt8] {
        do {
            return Array(try self.privateKey.signature(for: message).derRepresentation)
        } catch {
            throw SecAggError(code: .invalidKey, message: "ECDSA P-256 signing failed: \(error)")
        }
    }
}

/// Verifies ECDSA P-256 signatures (DER) against each participant's public key.
public struct P256Verifier: SecAggSignatureVerifier {
    private let keys: [String: P256.Signing.PublicKey]

    public init(publicKeys: [String: P256.Signing.PublicKey]) { self.keys = publicKeys }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], from participant: String) -> Bool {
        guard let key = self.keys[participant], let s = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return key.isValidSignature(s, for: message)
    }
}
