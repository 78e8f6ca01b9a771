public import CohortTensor

/// Reproducible noise from a seeded ``CohortTensor/RandomSource`` (xoshiro256**), for tests and simulations only.
///
/// Not cryptographically secure: whoever knows the seed, or a few outputs, can reproduce the noise and remove it.
/// Use ``SecureNoiseSource`` whenever the output leaves the process.
public struct SeededNoiseSource: NoiseSource, Sendable {
    /// The underlying generator.
    public var random: RandomSource

    /// A source seeded with `seed`.
    public init(seed: UInt64) {
        self.random = RandomSource(seed: seed)
    }

    /// A source that draws from (a copy of) `random`.
    public init(_ random: RandomSource) {
        self.random = random
    }

    public mutating func gaussian() -> Double { self.random.gaussian() }

    public mutating func uniform() -> Double { self.random.uniformOpen() }
}
