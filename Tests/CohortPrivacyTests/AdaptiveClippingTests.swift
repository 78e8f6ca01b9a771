import CohortPrivacy
import CohortTensor
import Testing

/// A noise source that replays fixed Gaussian draws.
struct ScriptedNoise: NoiseSource {
    var draws: [Double]
    var next = 0
    mutating func gaussian() -> Double {
        defer { self.next += 1 }
        return self.draws[self.next]
    }
    mutating func uniform() -> Double { 0.5 }
}

@Suite("Adaptive clipping")
struct AdaptiveClippingTests {
    @Test("a known sequence: C ← C·exp(−η(b̃ − γ)), b̃ = (count + σ_b·z)/m (values computed independently)")
    func knownSequence() throws {
        var clipping = try AdaptiveClipping(
            initialClipNorm: 1, settings: .init(targetQuantile: 0.5, learningRate: 0.2, countNoiseStandardDeviation: 2))
        var noise = ScriptedNoise(draws: [0.5, -1.0, 2.0, -0.25])
        let expected: [(fraction: Double, clip: Double)] = [
            (0.9, 0.9231163463866358), (0.1, 1.0), (0.9, 0.9231163463866358), (-0.05, 1.0304545339535167),
        ]
        for (count, want) in zip([8, 3, 5, 0], expected) {
            let fraction = clipping.update(unclippedCount: count, participants: 10, using: &noise)
            #expect(abs(fraction - want.fraction) < 1e-15)
            #expect(abs(clipping.clipNorm - want.clip) < 1e-14, "C = \(clipping.clipNorm), expected \(want.clip)")
        }
    }

    @Test("with a seeded source, updates are reproducible and use its Gaussian draws scaled by σ_b")
    func seeded() throws {
        let settings = AdaptiveClipping.Settings(targetQuantile: 0.7, learningRate: 0.5, countNoiseStandardDeviation: 3)
        var a = try AdaptiveClipping(initialClipNorm: 0.5, settings: settings)
        var noise = SeededNoiseSource(seed: 4)
        var reference = RandomSource(seed: 4)
        var expected = 0.5
        for round in 0..<20 {
            let count = (round * 7) % 31
            a.update(unclippedCount: count, participants: 30, using: &noise)
            expected *= Math.exp(-0.5 * ((Double(count) + 3 * reference.gaussian()) / 30 - 0.7))
            #expect(abs(a.clipNorm - expected) <= 1e-12 * expected)
        }
    }

    @Test("the clip norm converges to the γ-quantile of a fixed norm distribution", arguments: [0.5, 0.8])
    func converges(gamma: Double) throws {
        // Norms are log-normal, 2·exp(N(0, ½²)): the γ-quantile is 2·exp(½·Φ⁻¹(γ)).
        let quantile = gamma == 0.5 ? 2.0 : 3.046391566758494
        let participants = 200
        var clipping = try AdaptiveClipping(
            initialClipNorm: 0.1,
            settings: .init(targetQuantile: gamma, learningRate: 0.2, countNoiseStandardDeviation: Double(participants) / 20))
        var norms = RandomSource(seed: 11)
        var noise = SeededNoiseSource(seed: 12)
        var tail: [Double] = []
        for round in 0..<400 {
            let batch = (0..<participants).map { _ in 2 * Math.exp(0.5 * norms.gaussian()) }
            clipping.update(norms: batch, using: &noise)
            if round >= 300 { tail.append(clipping.clipNorm) }
        }
        let mean = tail.reduce(0, +) / Double(tail.count)
        #expect(abs(mean - quantile) < 0.05 * quantile, "mean clip norm \(mean), quantile \(quantile)")
        #expect(tail.allSatisfy { abs($0 - quantile) < 0.15 * quantile })
    }

    @Test("update noise multiplier: z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2); too little count noise is refused")
    func updateNoise() throws {
        let clipping = try AdaptiveClipping(initialClipNorm: 1, settings: .init(countNoiseStandardDeviation: 5))
        #expect(abs(try clipping.updateNoiseMultiplier(totalNoiseMultiplier: 1) - 1.005037815259212) < 1e-14)
        #expect(throws: PrivacyError(.invalidArgument, "")) { try clipping.updateNoiseMultiplier(totalNoiseMultiplier: 10) }
    }

    @Test("invalid settings are refused",
          arguments: [(1.0, 0.0, 0.2, 1.0), (1.0, 1.0, 0.2, 1.0), (1.0, 0.5, 0.0, 1.0), (1.0, 0.5, 0.2, -1.0), (0.0, 0.5, 0.2, 1.0)])
    func invalid(initial: Double, gamma: Double, eta: Double, sigmaB: Double) {
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try AdaptiveClipping(initialClipNorm: initial,
                                 settings: .init(targetQuantile: gamma, learningRate: eta, countNoiseStandardDeviation: sigmaB))
        }
    }
}
