import CohortPrivacy
import CohortTensor
import Testing

@Suite("L2 clipping")
struct L2ClippingTests {
    @Test("a long vector is scaled to the bound; its direction is kept")
    func clipsLong() {
        var v: [Float] = [3, 4]
        let (norm, scale) = L2Clipping.clip(&v, to: 1)
        #expect(norm == 5)
        #expect(abs(scale - 0.2) < 1e-7)
        #expect(abs(v[0] - 0.6) < 1e-6 && abs(v[1] - 0.8) < 1e-6)
        #expect(v.l2Norm <= 1)
    }

    @Test("a vector within the bound, and the zero vector, are unchanged")
    func keepsShort() {
        var v: [Float] = [0.3, -0.4]
        let r = L2Clipping.clip(&v, to: 1)
        #expect(r.scale == 1 && abs(r.originalNorm - 0.5) < 1e-7)
        #expect(v == [0.3, -0.4])
        var z = [Float](repeating: 0, count: 7)
        #expect(L2Clipping.clip(&z, to: 0.5).scale == 1)
        #expect(z.allSatisfy { $0 == 0 })
    }

    @Test("the clipped norm never exceeds the bound, even by an ulp (random vectors, odd lengths)")
    func neverAbove() {
        var rng = RandomSource(seed: 17)
        for trial in 0..<500 {
            let length = 1 + rng.uniformInt(below: 300)
            var v = (0..<length).map { _ in Float(rng.gaussian() * 10) }
            let bound = Float(0.01 + rng.uniform() * 5)
            let before = v.l2Norm
            let (norm, scale) = L2Clipping.clip(&v, to: bound)
            #expect(norm == before)
            #expect(v.l2Norm <= Double(bound), "trial \(trial): \(v.l2Norm) > \(bound)")
            if before > Double(bound) {
                #expect(v.l2Norm >= Double(bound) * (1 - 1e-5), "trial \(trial): clipped too much")
                #expect(scale < 1)
            }
        }
    }

    @Test("a vector with NaN or infinity is zeroed and reports its norm")
    func nonFinite() {
        var v: [Float] = [1, .nan, 2]
        let r = L2Clipping.clip(&v, to: 1)
        #expect(r.originalNorm.isNaN && r.scale == 0)
        #expect(v == [0, 0, 0])
        var w: [Float] = [.infinity, 1]
        #expect(L2Clipping.clip(&w, to: 1).originalNorm == .infinity)
        #expect(w == [0, 0])
    }

    @Test("clipRows clips each per-example gradient separately and counts the clipped rows")
    func rows() {
        // Rows with norms 5, 0.5, 13, 1 (exactly at the bound: not clipped).
        var g: [Float] = [3, 4, 0, 0.3, 0.4, 0, 5, 12, 0, 1, 0, 0]
        let clipped = L2Clipping.clipRows(&g, rowLength: 3, to: 1)
        #expect(clipped == 2)
        for r in 0..<4 {
            let norm = Array(g[r * 3..<(r + 1) * 3]).l2Norm
            #expect(norm <= 1)
        }
        #expect(Array(g[3..<6]) == [0.3, 0.4, 0])
        #expect(Array(g[9..<12]) == [1, 0, 0])
        #expect(abs(g[6] - 5.0 / 13) < 1e-6 && abs(g[7] - 12.0 / 13) < 1e-6)
    }
}
