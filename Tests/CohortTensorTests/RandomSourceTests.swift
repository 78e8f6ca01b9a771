import CohortTensor
import Testing

@Suite("RandomSource")
struct RandomSourceTests {
    @Test("xoshiro256** reproduces the reference implementation's outputs")
    func xoshiroKnownAnswers() {
        // Reference: xoshiro256starstar.c by Blackman and Vigna, state {1, 2, 3, 4}.
        var rng = RandomSource(state: (1, 2, 3, 4))
        #expect([rng.next(), rng.next(), rng.next(), rng.next()] == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
    }

    @Test("SplitMix64 seeding reproduces the reference implementation's outputs")
    func splitMixKnownAnswers() {
        // Reference: splitmix64.c by Vigna, seed 0.
        #expect(RandomSource.splitMix64(seed: 0, count: 3) == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    @Test("the same seed gives the same sequence; derived streams are reproducible and distinct")
    func reproducible() {
        var a = RandomSource(seed: 7), b = RandomSource(seed: 7), c = RandomSource(seed: 8)
        let sa = (0..<100).map { _ in a.next() }
        #expect(sa == (0..<100).map { _ in b.next() })
        #expect(sa != (0..<100).map { _ in c.next() })
        let root = RandomSource(seed: 7)
        var d1 = root.derived("site", "alpha"), d2 = root.derived("site", "alpha"), d3 = root.derived("site", "beta")
        let x = d1.next()
        #expect(x == d2.next())
        #expect(x != d3.next())
        // Deriving does not advance the parent.
        var r1 = root, r2 = root
        _ = r1.derived("x")
        #expect(r1.next() == r2.next())
    }

    @Test("uniform and Gaussian draws have the right moments")
    func moments() {
        var rng = RandomSource(seed: 11)
        let n = 200_000
        let u = (0..<n).map { _ in rng.uniform() }
        let mu = u.reduce(0, +) / Double(n)
        #expect(abs(mu - 0.5) < 0.005)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let g = (0..<n).map { _ in rng.gaussian() }
        let gm = g.reduce(0, +) / Double(n)
        let gv = g.map { ($0 - gm) * ($0 - gm) }.reduce(0, +) / Double(n - 1)
        #expect(abs(gm) < 0.01)
        #expect(abs(gv - 1) < 0.015)
        // Tail mass beyond 2 sigma: 4.55%.
        let tail = Double(g.filter { abs($0) > 2 }.count) / Double(n)
        #expect(abs(tail - 0.0455) < 0.003)
    }

    @Test("integers below a bound are uniform and in range")
    func integers() {
        var rng = RandomSource(seed: 5)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[rng.uniformInt(below: 7)] += 1 }
        // Chi-square with 6 degrees of freedom; 22.5 is the 0.999 quantile.
        let chi = counts.map { Double(($0 - 10_000) * ($0 - 10_000)) / 10_000 }.reduce(0, +)
        #expect(chi < 22.5)
    }

    @Test("gamma, Dirichlet and Poisson draws have the right means", arguments: [0.3, 1.0, 4.5])
    func distributions(shape: Double) {
        var rng = RandomSource(seed: 13)
        let n = 50_000
        let g = (0..<n).map { _ in rng.gamma(shape: shape) }
        #expect(abs(g.reduce(0, +) / Double(n) - shape) < 0.03 * max(1, shape))
        let d = rng.dirichlet([shape, shape, shape])
        #expect(abs(d.reduce(0, +) - 1) < 1e-12)
        let p = (0..<n).map { _ in rng.poisson(shape * 3) }
        #expect(abs(Double(p.reduce(0, +)) / Double(n) - shape * 3) < 0.05 * max(1, shape * 3))
    }

    @Test("a permutation contains every index once")
    func permutation() {
        var rng = RandomSource(seed: 1)
        let p = rng.permutation(1000)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != Array(0..<1000))
    }
}
