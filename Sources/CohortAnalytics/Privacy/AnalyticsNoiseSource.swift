public import CohortTensor

/// A source of the random draws that differential privacy noise needs.
///
/// Real sites use ``SecureAnalyticsNoise`` (the operating system's CSPRNG). Simulations and tests may use a
/// seeded `RandomSource`, whose noise protects nothing because its seed is known. When the privacy module's
/// mechanisms land, they replace this protocol behind the same call sites.
public protocol AnalyticsNoiseSource {
    /// A uniform draw in the open interval (0, 1).
    mutating func nextUniformOpen() -> Double
    /// A standard normal draw.
    mutating func nextGaussian() -> Double
}

extension RandomSource: AnalyticsNoiseSource {
    public mutating func nextUniformOpen() -> Double { self.uniformOpen() }
}

/// Noise from the operating system's cryptographically secure generator (`getrandom(2)` on Linux).
public struct SecureAnalyticsNoise: AnalyticsNoiseSource, Sendable {
    private var generator = SystemRandomNumberGenerator()
    private var gaussian = SecureGaussianSource()

    public init() {}

    public mutating func nextUniformOpen() -> Double {
        (Double(self.generator.next() >> 12) + 0.5) * 0x1.0p-52
    }

    public mutating func nextGaussian() -> Double { self.gaussian.nextGaussian() }
}

extension AnalyticsNoiseSource {
    /// A draw from the Laplace distribution with scale `b` (density `exp(-|x|/b) / 2b`), by inverting its CDF:
    /// for `u` uniform in (0, 1), `x = -b sign(u - 1/2) ln(1 - 2|u - 1/2|)`.
    ///
    /// Like every textbook floating-point sampler this does not defend against the least-significant-bit attack
    /// of Mironov (2012); the privacy module's snapping mechanism will replace it.
    public mutating func nextLaplace(scale b: Double) -> Double {
        let u = self.nextUniformOpen() - 0.5
        guard u != 0 else { return 0 }
        let magnitude = -b * Math.log(1 - 2 * abs(u))
        return u < 0 ? -magnitude : magnitude
    }
}
