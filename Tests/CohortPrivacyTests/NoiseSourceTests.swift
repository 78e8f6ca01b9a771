import CohortPrivacy
import CohortTensor
import Testing

/// Sample statistics for the noise tests.
struct SampleStatistics {
    var mean: Double
    var variance: Double
    var meanAbsolute: Double

    init(_ x: [Double]) {
        let n = Double(x.count)
        self.mean = x.reduce(0, +) / n
        let m = self.mean
        self.variance = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        self.meanAbsolute = x.reduce(0) { $0 + abs($1) } / n
    }

    /// The Kolmogorov-Smirnov statistic `sup |F_n(x) − F(x)|` against the CDF `cdf`.
    static func kolmogorovSmirnov(_ x: [Double], cdf: (Double) -> Double) -> Double {
        let sorted = x.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (i, v) in sorted.enumerated() {
            let f = cdf(v)
            d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
        }
        return d
    }
}

/// The standard normal CDF.
func normalCDF(_ x: Double) -> Double { 0.5 * Math.erfc(-x / 2.0.squareRoot()) }

/// The CDF of a centred Laplace distribution with scale `b`.
func laplaceCDF(_ x: Double, scale b: Double) -> Double {
    x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b)
}

@Suite("Noise sources")
struct NoiseSourceTests {
    static let n = 200_000
    /// Kolmogorov's critical value at p = 1e-6, `√(−ln(p/2)/2) / √n`: a correct sampler fails one run in a million.
    static let ksCritical = (-Math.log(0.5e-6) / 2).squareRoot() / Double(n).squareRoot()

    /// Checks that `draw` produces N(0, 1): mean and variance within 5 standard errors, CDF at a few points within
    /// 5 binomial standard errors, and the KS statistic below the critical value.
    static func checkStandardNormal(_ draw: () -> Double) {
        let x = (0..<Self.n).map { _ in draw() }
        let s = SampleStatistics(x)
        let n = Double(Self.n)
        #expect(abs(s.mean) < 5 / n.squareRoot(), "mean \(s.mean)")
        #expect(abs(s.variance - 1) < 5 * (2 / n).squareRoot(), "variance \(s.variance)")
        for point in [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0] {
            let p = normalCDF(point)
            let empirical = Double(x.count { $0 <= point }) / n
            #expect(abs(empirical - p) < 5 * (p * (1 - p) / n).squareRoot(), "F(\(point)) = \(empirical), Φ = \(p)")
        }
        let d = SampleStatistics.kolmogorovSmirnov(x, cdf: normalCDF)
        #expect(d < Self.ksCritical, "KS statistic \(d) ≥ \(Self.ksCritical)")
    }

    @Test("the seeded source draws standard normals (mean, variance, CDF, KS)")
    func seededGaussian() {
        var source = SeededNoiseSource(seed: 2024)
        Self.checkStandardNormal { source.gaussian() }
    }

    @Test("the secure source draws standard normals (mean, variance, CDF, KS)")
    func secureGaussian() {
        var source = SecureNoiseSource()
        Self.checkStandardNormal { source.gaussian() }
    }

    @Test("uniforms lie in the open interval (0, 1) with mean ½ and variance 1/12", arguments: [true, false])
    func uniform(secure: Bool) {
        var seeded = SeededNoiseSource(seed: 5)
        var system = SecureNoiseSource()
        let x = (0..<Self.n).map { _ in secure ? system.uniform() : seeded.uniform() }
        #expect(x.allSatisfy { $0 > 0 && $0 < 1 })
        let s = SampleStatistics(x)
        let n = Double(Self.n)
        #expect(abs(s.mean - 0.5) < 5 * (1.0 / 12 / n).squareRoot())
        #expect(abs(s.variance - 1.0 / 12) < 5 * (1.0 / 180 / n).squareRoot())
        let d = SampleStatistics.kolmogorovSmirnov(x) { $0 }
        #expect(d < Self.ksCritical)
    }

    @Test("the seeded source is reproducible and follows RandomSource; secure draws differ between sources")
    func reproducible() {
        var a = SeededNoiseSource(seed: 9), b = SeededNoiseSource(seed: 9)
        var reference = RandomSource(seed: 9)
        for _ in 0..<100 {
            let g = a.gaussian()
            #expect(g == b.gaussian())
            #expect(g == reference.gaussian())
        }
        var s1 = SecureNoiseSource(), s2 = SecureNoiseSource()
        let x1 = (0..<8).map { _ in s1.uniform() }, x2 = (0..<8).map { _ in s2.uniform() }
        #expect(x1 != x2)
    }
}
