public import Crypto
public import Foundation

/// Authenticates the channel keys of a private set intersection with the parties' certificate keys.
///
/// Sealed sets are only as private as the hello keys they are sealed under: a relay that swapped a hello key for
/// its own could open every set sent to that party. Each hello therefore carries the sender's ECDSA P-256 signature
/// over the run, the route and the key, and a party accepts a hello only if it verifies with the sender's key
/// (taken from its certificate, checked against the project CA). Other messages need no signature: they are
/// sealed under the authenticated keys with AES-GCM, bound to the sender, recipient and hop.
public struct PSIHelloAuthenticator: Sendable {
    /// Each party's signing key, by name.
    public let keys: [String: P256.Signing.PublicKey]

    public init(keys: [String: P256.Signing.PublicKey]) { self.keys = keys }

    /// What a hello's signature covers (nil for other messages).
    public static func signedContent(of m: PSIMessage) -> Data? {
        guard case .hello(let key) = m.body else { return nil }
        var out = Data("cohort-psi-hello-v1".utf8)
        for field in [m.parameters.session, m.from, m.to] {
            out.append(0)
            out.append(contentsOf: field.utf8)
        }
        out.append(0)
        out.append(key)
        return out
    }

    /// Signs a hello with the sender's certificate key (nil for other messages, which are not signed).
    public static func signature(for m: PSIMessage, key: P256.Signing.PrivateKey) throws -> Data? {
        guard let content = Self.signedContent(of: m) else { return nil }
        return try key.signature(for: content).derRepresentation
    }

    /// Accepts a message: a hello only with a valid signature of its sender.
    public func check(_ m: PSIMessage, signature: Data) throws(AnalyticsError) {
        guard let content = Self.signedContent(of: m) else { return }
        guard let key = self.keys[m.from] else {
            throw AnalyticsError(.protocolViolation, "no certificate key for '\(m.from)'; a hello from it cannot be authenticated")
        }
        guard let s = try? P256.Signing.ECDSASignature(derRepresentation: signature), key.isValidSignature(s, for: content) else {
            throw AnalyticsError(.protocolViolation, "the channel key from '\(m.from)' is not signed by its certificate; the relay may have replaced it, so nothing is sent under it")
        }
    }
}
