/// Noise from the operating system's cryptographically secure random number generator, for real deployments.
///
/// Bits come from the standard library's `SystemRandomNumberGenerator`, which on Linux calls `getrandom(2)` (falling
/// back to `/dev/urandom`) and on Apple platforms `arc4random_buf`. Both are the kernel's CSPRNG (ChaCha20-based on
/// current Linux, seeded from hardware entropy and reseeded continually; `getrandom` blocks until it is
/// initialised), so the output is unpredictable even to someone who has seen earlier outputs, and there is no seed
/// in this process to leak or to repeat after a restart or a `fork`. That is what separates it from
/// ``SeededNoiseSource``: an adversary who learns a xoshiro state can subtract the noise and undo the privacy.
///
/// Uniforms carry 52 random bits; normal draws use the Box-Muller transform. Like every floating-point sampler,
/// the low-order bits of noisy outputs are not perfectly distributed (Mironov, "On Significance of the Least
/// Significant Bits for Differential Privacy", 2012); see docs/privacy.md.
public struct SecureNoiseSource: NoiseSource, Sendable {
    private var generator = SystemRandomNumberGenerator()
    private var boxMuller = BoxMuller()

    public init() {}

    public mutating func uniform() -> Double {
        (Double(self.generator.next() >> 12) + 0.5) * 0x1.0p-52
    }

    public mutating func gaussian() -> Double {
        if let spare = self.boxMuller.takeSpare() { return spare }
        let u1 = self.uniform(), u2 = self.uniform()
        return self.boxMuller.transform(u1, u2)
    }
}
