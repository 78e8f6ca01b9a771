import CohortTensor
import Testing

@Suite("Vector kernels")
struct VectorTests {
    static func data(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<n).map { _ in Float(rng.gaussian()) }
    }

    @Test("dot, axpy, scale and sums match a Float64 reference", arguments: [0, 1, 7, 15, 16, 17, 63, 64, 65, 1000, 4099])
    func matchReference(n: Int) {
        let x = Self.data(n, seed: 1), y = Self.data(n, seed: 2)
        let refDot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(Double(x.dot(y)) - refDot) <= 1e-5 * max(1, Double(n).squareRoot() * 4))
        var z = y
        z.addScaled(x, by: 0.5)
        for i in 0..<n { #expect(z[i] == y[i] + 0.5 * x[i] || abs(z[i] - (y[i] + 0.5 * x[i])) <= 1e-6) }
        var s = x
        s.scale(by: -2)
        for i in 0..<n { #expect(s[i] == -2 * x[i]) }
        let sum = x.withUnsafeBufferPointer { Vector.sum($0) }
        #expect(abs(sum - x.reduce(0.0) { $0 + Double($1) }) <= 1e-9 * Double(max(n, 1)))
        let ss = x.withUnsafeBufferPointer { Vector.sumOfSquares($0) }
        #expect(abs(ss - x.reduce(0.0) { $0 + Double($1) * Double($1) }) <= 1e-9 * Double(max(n, 1)))
    }

    @Test("non-finite values are found wherever they are", arguments: [0, 5, 16, 31, 99])
    func findsNonFinite(position: Int) {
        for bad in [Float.nan, .infinity, -.infinity] {
            var x = Self.data(100, seed: 3)
            #expect(x.allFinite)
            x[position] = bad
            #expect(!x.allFinite)
            #expect(x.withUnsafeBufferPointer { Vector.firstNonFinite($0) } == position)
        }
    }

    @Test("the sum of many small values keeps its precision")
    func carefulSum() {
        // 1e7 copies of 0.1f: a Float accumulator drifts by percent, Float64 accumulation stays exact to 1e-9.
        let x = [Float](repeating: 0.1, count: 10_000_000)
        let s = x.withUnsafeBufferPointer { Vector.sum($0) }
        #expect(abs(s - 1e7 * Double(Float(0.1))) < 1e-3)
    }
}
