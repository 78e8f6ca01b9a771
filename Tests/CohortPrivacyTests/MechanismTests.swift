import CohortPrivacy
import CohortTensor
import Testing

@Suite("Mechanisms")
struct MechanismTests {
    static let n = 200_000

    @Test("Gaussian mechanism: σ = z·C, noise added to Float values has mean 0 and variance σ²")
    func gaussian() throws {
        let mechanism = try GaussianMechanism(noiseMultiplier: 1.5, l2Sensitivity: 2)
        #expect(mechanism.standardDeviation == 3)
        var values = [Float](repeating: 10, count: Self.n)
        var noise = SeededNoiseSource(seed: 31)
        mechanism.addNoise(to: &values, using: &noise)
        let s = SampleStatistics(values.map { Double($0) - 10 })
        let n = Double(Self.n)
        #expect(abs(s.mean) < 5 * 3 / n.squareRoot(), "mean \(s.mean)")
        #expect(abs(s.variance - 9) < 5 * 9 * (2 / n).squareRoot(), "variance \(s.variance)")
        let d = SampleStatistics.kolmogorovSmirnov(values.map { (Double($0) - 10) / 3 }, cdf: normalCDF)
        #expect(d < NoiseSourceTests.ksCritical)
    }

    @Test("Gaussian noise is added in Float64: noise far below Float32's spacing at 1e4 still moves values")
    func float64Accumulation() {
        let mechanism = GaussianMechanism(standardDeviation: 1e-3)
        var values = [Float](repeating: 1e4, count: 10_000)
        var noise = SeededNoiseSource(seed: 3)
        mechanism.addNoise(to: &values, using: &noise)
        // Float spacing at 1e4 is ~0.001: rounding once keeps about half the draws distinguishable from 1e4.
        #expect(values.count { $0 != 1e4 } > 2_000)
        var zero = [Float](repeating: 0, count: 4)
        GaussianMechanism(standardDeviation: 0).addNoise(to: &zero, using: &noise)
        #expect(zero == [0, 0, 0, 0])
    }

    @Test("Gaussian mechanism rejects negative or non-finite parameters")
    func gaussianInvalid() {
        #expect(throws: PrivacyError(.invalidArgument, "")) { try GaussianMechanism(noiseMultiplier: -1, l2Sensitivity: 1) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try GaussianMechanism(noiseMultiplier: 1, l2Sensitivity: .nan) }
    }

    @Test("Laplace mechanism: b = Δ₁/ε, variance 2b², mean |x| = b, CDF by KS", arguments: [true, false])
    func laplace(secure: Bool) throws {
        let mechanism = try LaplaceMechanism(epsilon: 0.5, l1Sensitivity: 1)
        #expect(mechanism.scale == 2)
        var seeded = SeededNoiseSource(seed: 77)
        var system = SecureNoiseSource()
        let x = (0..<Self.n).map { _ in secure ? mechanism.sample(using: &system) : mechanism.sample(using: &seeded) }
        let s = SampleStatistics(x)
        let n = Double(Self.n)
        let b = 2.0
        #expect(abs(s.mean) < 5 * (2 * b * b / n).squareRoot(), "mean \(s.mean)")
        // Var(s²) ≈ (μ₄ − σ⁴)/n = 20b⁴/n for the Laplace distribution.
        #expect(abs(s.variance - 2 * b * b) < 5 * (20 * b * b * b * b / n).squareRoot(), "variance \(s.variance)")
        #expect(abs(s.meanAbsolute - b) < 5 * b / n.squareRoot(), "mean |x| \(s.meanAbsolute)")
        let d = SampleStatistics.kolmogorovSmirnov(x) { laplaceCDF($0, scale: b) }
        #expect(d < NoiseSourceTests.ksCritical)
    }

    @Test("Laplace counts and sums are centred on the true value")
    func laplaceCounts() throws {
        let mechanism = try LaplaceMechanism(epsilon: 1)
        #expect(mechanism.scale == 1)
        var noise = SeededNoiseSource(seed: 8)
        let counts = (0..<Self.n).map { _ in mechanism.noisedCount(42, using: &noise) }
        #expect(abs(SampleStatistics(counts).mean - 42) < 5 * (2.0 / Double(Self.n)).squareRoot())
        var histogram = [Double](repeating: 100, count: 1000)
        mechanism.addNoise(to: &histogram, using: &noise)
        #expect(histogram.allSatisfy { $0 != 100 })
        #expect(abs(mechanism.noisedSum(5, using: &noise) - 5) < 50)
        #expect(throws: PrivacyError(.invalidArgument, "")) { try LaplaceMechanism(epsilon: 0) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try LaplaceMechanism(epsilon: 1, l1Sensitivity: -1) }
    }
}
