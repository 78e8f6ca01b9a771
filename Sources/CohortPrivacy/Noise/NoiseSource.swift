import CohortTensor

/// A source of the random numbers that privacy mechanisms add.
///
/// Mechanisms are generic over the source (`some NoiseSource`), so the per-element loop is specialised and never
/// goes through an existential. Real deployments use ``SecureNoiseSource``; tests use ``SeededNoiseSource`` for
/// reproducible draws.
public protocol NoiseSource {
    /// A standard normal draw, N(0, 1).
    mutating func gaussian() -> Double

    /// A uniform draw from the open interval (0, 1): never exactly 0 or 1, so logarithms of it and of its
    /// complement are finite.
    mutating func uniform() -> Double
}

/// The Box-Muller transform: two uniforms in (0, 1) give two independent standard normal draws, the second kept
/// for the next call.
struct BoxMuller: Sendable {
    private var spare: Double?

    init() { self.spare = nil }

    /// The draw kept from the previous pair, if any (and forgets it).
    mutating func takeSpare() -> Double? {
        defer { self.spare = nil }
        return self.spare
    }

    /// Transforms a fresh pair of uniforms, returns the first draw and keeps the second.
    mutating func transform(_ u1: Double, _ u2: Double) -> Double {
        let r = (-2 * Math.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        self.spare = r * Math.sin(theta)
        return r * Math.cos(theta)
    }
}
