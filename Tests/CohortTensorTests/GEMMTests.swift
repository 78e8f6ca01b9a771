import CohortTensor
import Testing

@Suite("GEMM")
struct GEMMTests {
    static func reference(_ a: [Float], _ opA: MatrixOperation, _ b: [Float], _ opB: MatrixOperation, m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = opA == .none ? a[i * k + p] : a[p * m + i]
                    let bv = opB == .none ? b[p * n + j] : b[j * k + p]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    static func random(_ count: Int, _ seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<count).map { _ in Float(rng.uniform(-1, 1)) }
    }

    @Test(
        "matches a Float64 reference for every transpose combination and size",
        arguments: [(1, 1, 1), (3, 5, 7), (6, 16, 9), (13, 37, 29), (64, 64, 64), (97, 131, 300), (200, 70, 513)]
    )
    func matchesReference(dims: (Int, Int, Int)) {
        let (m, n, k) = dims
        for opA in [MatrixOperation.none, .transpose] {
            for opB in [MatrixOperation.none, .transpose] {
                let a = Self.random(m * k, 1), b = Self.random(k * n, 2)
                let c = GEMM.product(a, opA, b, opB, m: m, n: n, k: k)
                let ref = Self.reference(a, opA, b, opB, m: m, n: n, k: k)
                let worst = zip(c, ref).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * Double(k), "m=\(m) n=\(n) k=\(k) \(opA) \(opB): error \(worst)")
            }
        }
    }

    @Test("alpha and beta: C = alpha AB + beta C, and beta 0 ignores NaN in C")
    func alphaBeta() {
        let m = 50, n = 40, k = 60
        let a = Self.random(m * k, 3), b = Self.random(k * n, 4), c0 = Self.random(m * n, 5)
        let ab = Self.reference(a, .none, b, .none, m: m, n: n, k: k)
        var c = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMM.multiply(.none, .none, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: k,
                                  b: pb.baseAddress!, ldb: n, beta: -1, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        for i in 0..<(m * n) { #expect(abs(Double(c[i]) - (0.5 * ab[i] - Double(c0[i]))) < 1e-4) }
        var nanC = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                nanC.withUnsafeMutableBufferPointer { pc in
                    GEMM.multiply(.none, .none, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                                  b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        #expect(nanC.allFinite)
    }

    @Test("results are bit-identical whatever the number of threads")
    func threadIndependent() {
        let m = 300, n = 257, k = 301
        let a = Self.random(m * k, 6), b = Self.random(k * n, 7)
        func run(_ threads: Int) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        GEMM.multiply(.none, .transpose, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                                      b: pb.baseAddress!, ldb: k, c: pc.baseAddress!, ldc: n, threads: threads)
                    }
                }
            }
            return c
        }
        let one = run(1)
        #expect(run(2) == one)
        #expect(run(8) == one)
    }
}
