import Crypto
import Foundation

/// Commutative blinding on P-256 with swift-crypto's public API: a party's secret scalar `k` maps a point's
/// x-coordinate `x(P)` to `x(k P)`.
///
/// swift-crypto exposes scalar multiplication only as ECDH (`sharedSecretFromKeyAgreement`), whose output is the
/// x-coordinate of `k P`. That is enough: lifting an x-coordinate back to a point (compressed form `02 || x`)
/// picks `P` or `-P`, and `x(k P) = x(-k P)`, so `x(b · lift(x(a P))) = x(a b P)` whatever the lift chose. The
/// blinding is therefore commutative on x-coordinates, and under the decisional Diffie-Hellman assumption a
/// blinded value reveals nothing about the point without the key.
///
/// Hash to curve: RFC 9380's `P256_XMD:SHA-256_SSWU_RO_` exists in BoringSSL but is not part of the `Crypto`
/// product's API (only `_CryptoExtras` uses it internally). We use try-and-increment instead: for
/// `counter = 0, 1, ...`, `x = SHA-256(len(DST) || DST || counter || id)` and the first `x` that is the
/// x-coordinate of a curve point (about half are) gives `H(id) = lift(x)`. The discrete logarithm of `H(id)` is
/// unknown, which is what the protocol needs. The loop's running time depends on the identifier; it runs only at
/// the identifier's own site.
struct P256Blinding: Sendable {
    let key: P256.KeyAgreement.PrivateKey

    init() { self.key = P256.KeyAgreement.PrivateKey() }

    /// Bytes of a blinded value (an x-coordinate).
    static let pointSize = 32

    /// The domain separation tag of the hash-to-curve for one session.
    static func domain(session: String) -> [UInt8] {
        Array("COHORT-PSI-V1-P256_XMD:SHA-256_TAI-\(session)".utf8)
    }

    /// `H(id)` as a point (the public key type carries the point).
    static func hashToCurve(_ normalized: String, domain: [UInt8]) -> P256.KeyAgreement.PublicKey {
        let id = Array(normalized.utf8)
        var counter: UInt8 = 0
        while true {
            var hasher = SHA256()
            hasher.update(data: [UInt8(truncatingIfNeeded: domain.count)])
            hasher.update(data: domain)
            hasher.update(data: [counter])
            hasher.update(data: id)
            let x = Array(hasher.finalize())
            if let p = try? P256.KeyAgreement.PublicKey(compressedRepresentation: [0x02] + x) { return p }
            // 2^-256 chance of 256 consecutive failures; wrapping around keeps the function total.
            counter &+= 1
        }
    }

    /// `x(H(id))`, the value the protocol must never send (tests check transcripts against it).
    static func hashedX(_ normalized: String, session: String) -> [UInt8] {
        Array(Self.hashToCurve(normalized, domain: Self.domain(session: session)).compressedRepresentation.dropFirst())
    }

    /// `x(k H(id))`.
    func blind(identifier normalized: String, domain: [UInt8]) -> [UInt8] {
        self.multiply(Self.hashToCurve(normalized, domain: domain))
    }

    /// `x(k P)` for a received x-coordinate, or nil when it is not a curve point's.
    func blind(x: ArraySlice<UInt8>) -> [UInt8]? {
        guard x.count == Self.pointSize, let p = try? P256.KeyAgreement.PublicKey(compressedRepresentation: [0x02] + x) else { return nil }
        return self.multiply(p)
    }

    func multiply(_ p: P256.KeyAgreement.PublicKey) -> [UInt8] {
        // ECDH with a valid on-curve point and a nonzero scalar cannot fail.
        let secret = try! self.key.sharedSecretFromKeyAgreement(with: p)
        return secret.withUnsafeBytes { Array($0) }
    }

    /// Blinds many values, spread over the machine's cores; nil when any value is not a curve point's.
    func blind(packed: [UInt8]) -> [UInt8]? {
        let n = packed.count / Self.pointSize
        guard n * Self.pointSize == packed.count else { return nil }
        return Self.parallel(n) { i in self.blind(x: packed[(i * Self.pointSize)..<((i + 1) * Self.pointSize)]) }
    }

    /// Blinds hashed identifiers, in parallel.
    func blind(identifiers: [String], domain: [UInt8]) -> [UInt8] {
        Self.parallel(identifiers.count) { i in self.blind(identifier: identifiers[i], domain: domain) }!
    }

    /// The 32-byte results of `item(i)` for `i` in `0..<n`, concatenated, computed in chunks on every core; nil
    /// when any item is nil.
    static func parallel(_ n: Int, _ item: @Sendable (Int) -> [UInt8]?) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n * Self.pointSize)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n / 64))
        let chunk = (n + workers - 1) / workers
        var ok = [Bool](repeating: true, count: workers)
        out.withUnsafeMutableBufferPointer { buffer in
            ok.withUnsafeMutableBufferPointer { okBuffer in
                let out = UnsafeMutableBufferPointerBox(buffer), flags = UnsafeMutableBufferPointerBox(okBuffer)
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    for i in (w * chunk)..<min(n, (w + 1) * chunk) {
                        guard let bytes = item(i), bytes.count == Self.pointSize else {
                            flags.buffer[w] = false
                            return
                        }
                        for j in 0..<Self.pointSize { out.buffer[i * Self.pointSize + j] = bytes[j] }
                    }
                }
            }
        }
        return ok.allSatisfy { $0 } ? out : nil
    }
}

/// Lets concurrent workers write disjoint ranges of one buffer.
///
/// This is `@unchecked Sendable` because each worker writes only its own index range of the buffer, and the
/// buffer outlives `concurrentPerform`, which returns only after every worker has finished.
private struct UnsafeMutableBufferPointerBox<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
