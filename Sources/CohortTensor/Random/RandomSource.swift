/// A seeded, reproducible random number generator: xoshiro256** (Blackman and Vigna, "Scrambled Linear
/// Pseudorandom Number Generators", 2021), seeded through SplitMix64.
///
/// The same seed yields the same sequence on every platform and build. Independent streams are derived from a seed
/// and labels (``derived(_:)``), so that a site's randomness in a round depends only on the job seed, the site's
/// name and the round, and never on thread scheduling or on how many other sites exist.
///
/// This generator is for simulation, shuffling and initialisation. It is not cryptographically secure: privacy
/// noise for real deployments must come from a CSPRNG.
public struct RandomSource: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64
    @usableFromInline var spareGaussian: Double?

    /// Creates a generator from a 64-bit seed.
    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        self.s0 = sm.next()
        self.s1 = sm.next()
        self.s2 = sm.next()
        self.s3 = sm.next()
        self.spareGaussian = nil
        if self.s0 | self.s1 | self.s2 | self.s3 == 0 { self.s0 = 1 }
    }

    /// A generator with an explicit xoshiro256** state (for known-answer tests).
    package init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (self.s0, self.s1, self.s2, self.s3) = state
        self.spareGaussian = nil
    }

    /// SplitMix64 output for a seed (for known-answer tests of the seeding).
    package static func splitMix64(seed: UInt64, count: Int) -> [UInt64] {
        var sm = SplitMix64(state: seed)
        return (0..<count).map { _ in sm.next() }
    }

    /// A new, independent generator for a labelled sub-stream, e.g. `rng.derived("site:alpha", "round:3")`.
    ///
    /// Derivation does not advance this generator.
    public func derived(_ labels: String...) -> RandomSource {
        self.derived(labels)
    }

    /// A new, independent generator for a labelled sub-stream.
    public func derived(_ labels: [String]) -> RandomSource {
        var h = self.s0 ^ 0x9E37_79B9_7F4A_7C15
        h = SplitMix64.mix(h ^ self.s1)
        h = SplitMix64.mix(h ^ self.s2)
        h = SplitMix64.mix(h ^ self.s3)
        for label in labels {
            h = SplitMix64.mix(h ^ StableHash.fnv1a64(label))
        }
        return RandomSource(seed: h)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(self.s1 &* 5, 7) &* 9
        let t = self.s1 << 17
        self.s2 ^= self.s0
        self.s3 ^= self.s1
        self.s1 ^= self.s2
        self.s0 ^= self.s3
        self.s2 ^= t
        self.s3 = rotl(self.s3, 45)
        return result
    }

    @inlinable @inline(__always)
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniform() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in (0, 1), never exactly zero (safe for logarithms).
    @inlinable
    public mutating func uniformOpen() -> Double {
        (Double(self.next() >> 12) + 0.5) * 0x1.0p-52
    }

    /// A uniform float in [0, 1) with 24 random bits.
    @inlinable
    public mutating func uniformFloat() -> Float {
        Float(self.next() >> 40) * 0x1.0p-24
    }

    /// A uniform double in `[lower, upper)`.
    @inlinable
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * self.uniform()
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject method, unbiased).
    @inlinable
    public mutating func uniformInt(below bound: Int) -> Int {
        precondition(bound > 0, "uniformInt(below:) needs a positive bound")
        let b = UInt64(bound)
        var m = self.next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold {
                m = self.next().multipliedFullWidth(by: b)
            }
        }
        return Int(m.high)
    }

    /// True with probability `p`.
    @inlinable
    public mutating func bernoulli(_ p: Double) -> Bool {
        self.uniform() < p
    }

    /// A standard normal draw (Box-Muller transform; the second value of each pair is kept for the next call).
    @inlinable
    public mutating func gaussian() -> Double {
        if let spare = self.spareGaussian {
            self.spareGaussian = nil
            return spare
        }
        let u1 = self.uniformOpen()
        let u2 = self.uniform()
        let r = (-2 * Math.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        self.spareGaussian = r * Math.sin(theta)
        return r * Math.cos(theta)
    }

    /// A normal draw with the given mean and standard deviation.
    @inlinable
    public mutating func gaussian(mean: Double, standardDeviation: Double) -> Double {
        mean + standardDeviation * self.gaussian()
    }

    /// A Gamma(shape, 1) draw (Marsaglia and Tsang 2000; shape < 1 boosted by U^(1/shape)).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 {
            let g = self.gamma(shape: shape + 1)
            return g * Math.pow(self.uniformOpen(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = self.gaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = self.uniformOpen()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v)) { return d * v }
        }
    }

    /// A draw from a Dirichlet distribution with the given concentration parameters.
    public mutating func dirichlet(_ alpha: [Double]) -> [Double] {
        var g = alpha.map { self.gamma(shape: $0) }
        let total = g.reduce(0, +)
        if total <= 0 || !total.isFinite {
            // Extremely small concentrations can underflow every component: put all mass on one, uniformly.
            let k = self.uniformInt(below: alpha.count)
            return alpha.indices.map { $0 == k ? 1 : 0 }
        }
        for i in g.indices { g[i] /= total }
        return g
    }

    /// A Poisson draw (Knuth's method below 30, otherwise a rounded normal approximation).
    public mutating func poisson(_ lambda: Double) -> Int {
        precondition(lambda >= 0, "poisson rate must be non-negative")
        if lambda == 0 { return 0 }
        if lambda < 30 {
            let limit = Math.exp(-lambda)
            var k = 0
            var p = self.uniform()
            while p > limit {
                k += 1
                p *= self.uniform()
            }
            return k
        }
        return max(0, Int((lambda + lambda.squareRoot() * self.gaussian()).rounded()))
    }

    /// Picks an index with probability proportional to `weights`.
    public mutating func categorical(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = self.uniform() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }

    /// Shuffles an array in place (Fisher-Yates, with this generator's own integer sampling, so the order does not
    /// depend on the standard library's shuffle algorithm).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = self.uniformInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        self.shuffle(&p)
        return p
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014), used to expand seeds.
@usableFromInline
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(self.state)
    }

    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Stable (platform- and run-independent) hashes for deriving seeds from names.
public enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
