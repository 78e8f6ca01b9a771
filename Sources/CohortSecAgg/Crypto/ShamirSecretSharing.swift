/// Shamir secret sharing of 32-byte secrets over the prime field GF(2^61 − 1).
///
/// A secret is split into eight 32-bit chunks; each chunk is the constant term of its own random polynomial of
/// degree `t − 1` over the Mersenne prime field `p = 2^61 − 1`, and a share is the eight polynomial values at the
/// holder's point `x` (its position in the participant list, from 1). Multiplication uses one 64×64→128-bit product
/// and the Mersenne reduction `2^61 ≡ 1`. Fewer than t shares are independent of the secret (each chunk is
/// information-theoretically hidden); t shares determine it by Lagrange interpolation at 0. Interpolating fewer than
/// t shares, or shares replaced by random values, gives a uniformly random field element, which
/// ``reconstruct(_:threshold:)`` rejects with probability 1 − 2^−29 per chunk because a correct chunk is below 2^32
/// (the server also checks a reconstructed mask key against its advertised public key).
public enum ShamirSecretSharing {
    /// The field modulus `2^61 − 1`.
    public static let prime: UInt64 = (1 << 61) - 1
    /// Field elements per 32-byte secret (one per 32-bit chunk).
    public static let elementsPerSecret = 8

    /// One holder's share of a secret: the polynomial values at `x`.
    public struct Share: Codable, Sendable, Hashable {
        /// The evaluation point: the holder's position in the participant list, from 1.
        public var x: UInt64
        /// One field element per 32-bit chunk of the secret.
        public var y: [UInt64]

        /// Creates a share.
        public init(x: UInt64, y: [UInt64]) {
            self.x = x
            self.y = y
        }

        /// Whether the share has the right shape and every element lies in the field.
        public var isWellFormed: Bool {
            self.x != 0 && self.x < ShamirSecretSharing.prime && self.y.count == ShamirSecretSharing.elementsPerSecret
                && self.y.allSatisfy { $0 < ShamirSecretSharing.prime }
        }
    }

    /// Splits a 32-byte secret into one share per evaluation point, any `threshold` of which reconstruct it.
    ///
    /// - Parameters:
    ///   - secret: 32 bytes.
    ///   - threshold: shares needed to reconstruct (at least 1).
    ///   - points: distinct non-zero evaluation points, one per holder.
    ///   - randomness: the source of the polynomial coefficients (a CSPRNG in production).
    public static func split(
        _ secret: [UInt8], threshold: Int, points: [UInt64], using randomness: inout some RandomNumberGenerator
    ) -> [Share] {
        precondition(secret.count == 4 * Self.elementsPerSecret, "secrets are 32 bytes")
        precondition(threshold >= 1 && threshold <= points.count, "threshold must be in 1...points")
        var shares = points.map { Share(x: $0, y: []) }
        var coefficients = [UInt64](repeating: 0, count: threshold)
        for chunk in 0..<Self.elementsPerSecret {
            var c: UInt64 = 0
            for b in 0..<4 { c |= UInt64(secret[4 * chunk + b]) << (8 * b) }
            coefficients[0] = c
            for j in 1..<threshold { coefficients[j] = Self.randomElement(&randomness) }
            for h in shares.indices {
                let x = shares[h].x
                var acc: UInt64 = 0
                for j in stride(from: threshold - 1, through: 0, by: -1) {
                    acc = Self.add(Self.multiply(acc, x), coefficients[j])
                }
                shares[h].y.append(acc)
            }
        }
        return shares
    }

    /// Reconstructs a 32-byte secret from at least `threshold` well-formed shares with distinct points.
    ///
    /// The first `threshold` shares by point are interpolated.
    /// - Throws: ``SecAggError/Code/belowThreshold`` with fewer than `threshold` shares;
    ///   ``SecAggError/Code/malformedShare`` for a malformed or repeated share; ``SecAggError/Code/reconstructionFailed``
    ///   when the interpolated chunks are not 32-bit values (inconsistent shares).
    public static func reconstruct(_ shares: [Share], threshold: Int) throws(SecAggError) -> [UInt8] {
        guard shares.count >= threshold, threshold >= 1 else {
            throw SecAggError(code: .belowThreshold, message: "\(shares.count) shares given, \(threshold) needed")
        }
        guard shares.allSatisfy(\.isWellFormed) else {
            throw SecAggError(code: .malformedShare, message: "a share is malformed")
        }
        let chosen = Array(shares.sorted { $0.x < $1.x }.prefix(threshold))
        guard Set(chosen.map(\.x)).count == chosen.count else {
            throw SecAggError(code: .malformedShare, message: "two shares have the same point")
        }
        let chunks = Self.interpolateAtZero(chosen)
        var secret = [UInt8]()
        secret.reserveCapacity(4 * Self.elementsPerSecret)
        for c in chunks {
            guard c >> 32 == 0 else {
                throw SecAggError(code: .reconstructionFailed, message: "shares are inconsistent (chunk outside 32 bits)")
            }
            for b in 0..<4 { secret.append(UInt8(truncatingIfNeeded: c >> (8 * b))) }
        }
        return secret
    }

    /// The Lagrange interpolation at 0 of the given shares, element by element (no threshold check).
    public static func interpolateAtZero(_ shares: [Share]) -> [UInt64] {
        // λ_i = Π_{j≠i} x_j / (x_j − x_i)
        let xs = shares.map(\.x)
        let lambdas = xs.indices.map { i in
            var numerator: UInt64 = 1
            var denominator: UInt64 = 1
            for j in xs.indices where j != i {
                numerator = Self.multiply(numerator, xs[j])
                denominator = Self.multiply(denominator, Self.subtract(xs[j], xs[i]))
            }
            return Self.multiply(numerator, Self.inverse(denominator))
        }
        return (0..<Self.elementsPerSecret).map { e in
            var acc: UInt64 = 0
            for (i, share) in shares.enumerated() { acc = Self.add(acc, Self.multiply(lambdas[i], share.y[e])) }
            return acc
        }
    }

    // MARK: Field arithmetic modulo 2^61 − 1

    @inline(__always)
    static func reduce(_ v: UInt64) -> UInt64 {
        let r = (v & Self.prime) &+ (v >> 61)
        return r >= Self.prime ? r &- Self.prime : r
    }

    @inline(__always)
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 { Self.reduce(a &+ b) }

    @inline(__always)
    static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 { Self.reduce(a &+ (Self.prime &- b)) }

    @inline(__always)
    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        // a·b = high·2^64 + low = (high·8 + low>>61)·2^61 + (low & p) ≡ (high·8 + low>>61) + (low & p).
        return Self.reduce((low & Self.prime) &+ ((high << 3) | (low >> 61)))
    }

    static func inverse(_ a: UInt64) -> UInt64 {
        // Fermat: a^(p−2).
        var result: UInt64 = 1
        var base = a
        var e = Self.prime - 2
        while e > 0 {
            if e & 1 == 1 { result = Self.multiply(result, base) }
            base = Self.multiply(base, base)
            e >>= 1
        }
        return result
    }

    static func randomElement(_ randomness: inout some RandomNumberGenerator) -> UInt64 {
        while true {
            let r = randomness.next() >> 3
            if r < Self.prime { return r }
        }
    }
}
