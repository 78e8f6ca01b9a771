/// A source of standard normal draws, for privacy noise.
///
/// Real deployments draw privacy noise from ``SecureGaussianSource``; simulations and tests may use a seeded
/// ``RandomSource`` so that runs are reproducible (such noise protects nothing: its seed is known).
public protocol GaussianSource {
    /// The next standard normal draw.
    mutating func nextGaussian() -> Double
}

extension RandomSource: GaussianSource {
    public mutating func nextGaussian() -> Double { self.gaussian() }
}

/// Standard normal draws from the operating system's cryptographically secure generator.
///
/// `SystemRandomNumberGenerator` reads `getrandom(2)` on Linux (`arc4random_buf` on Apple platforms): a CSPRNG
/// seeded by the kernel, so the noise cannot be predicted or replayed by anyone, including the site itself. Draws
/// use the Box-Muller transform on 53-bit uniforms.
public struct SecureGaussianSource: GaussianSource, Sendable {
    private var generator = SystemRandomNumberGenerator()
    private var spare: Double?

    public init() {}

    public mutating func nextGaussian() -> Double {
        if let s = self.spare {
            self.spare = nil
            return s
        }
        let u1 = (Double(self.generator.next() >> 12) + 0.5) * 0x1.0p-52
        let u2 = Double(self.generator.next() >> 11) * 0x1.0p-53
        let r = (-2 * Math.log(u1)).squareRoot()
        self.spare = r * Math.sin(2 * Double.pi * u2)
        return r * Math.cos(2 * Double.pi * u2)
    }
}

extension Array where Element == Float {
    /// Adds independent N(0, standardDeviation²) noise to every element (computed in Float64).
    public mutating func addGaussianNoise(standardDeviation: Double, from source: inout some GaussianSource) {
        guard standardDeviation > 0 else { return }
        for i in self.indices { self[i] = Float(Double(self[i]) + standardDeviation * source.nextGaussian()) }
    }
}
