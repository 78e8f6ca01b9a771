import CohortTensor
import Testing

@Suite("ExactAccumulator")
struct ExactAccumulatorTests {
    static func updates(_ count: Int, length: Int, scale: Double = 1, seed: UInt64 = 1) -> [([Float], Double)] {
        var rng = RandomSource(seed: seed)
        return (0..<count).map { _ in
            ((0..<length).map { _ in Float(rng.gaussian() * scale) }, Double(1 + rng.uniformInt(below: 5000)))
        }
    }

    @Test("the sum does not depend on the order of contributions")
    func orderIndependent() throws {
        let ups = Self.updates(30, length: 1001)
        var forward = ExactAccumulator(count: 1001)
        for (x, w) in ups { try forward.add(x, weight: w) }
        var rng = RandomSource(seed: 99)
        var shuffled = ups
        rng.shuffle(&shuffled)
        var other = ExactAccumulator(count: 1001)
        for (x, w) in shuffled { try other.add(x, weight: w) }
        #expect(forward.weightedMean() == other.weightedMean())
        #expect(forward.serialized() == other.serialized())
        // A plain floating-point sum in another order generally differs in the last bits; the exact sum cannot.
    }

    @Test("merging partial accumulators equals adding everything to one (hierarchical aggregation)")
    func mergeEqualsFlat() throws {
        let ups = Self.updates(12, length: 333, seed: 2)
        var flat = ExactAccumulator(count: 333)
        for (x, w) in ups { try flat.add(x, weight: w) }
        var r1 = ExactAccumulator(count: 333), r2 = ExactAccumulator(count: 333)
        for (i, (x, w)) in ups.enumerated() { if i % 3 == 0 { try r1.add(x, weight: w) } else { try r2.add(x, weight: w) } }
        var top = ExactAccumulator(count: 333)
        try top.merge(r2)
        try top.merge(ExactAccumulator(serialized: r1.serialized()))
        #expect(top.weightedMean() == flat.weightedMean())
        #expect(top.totalWeight == flat.totalWeight)
        #expect(top.contributions == 12)
    }

    @Test("the weighted mean matches a Float64 computation", arguments: [1e-6, 1.0, 500.0])
    func accurate(scale: Double) throws {
        let ups = Self.updates(20, length: 257, scale: scale, seed: 3)
        var acc = ExactAccumulator(count: 257)
        for (x, w) in ups { try acc.add(x, weight: w) }
        let total = ups.reduce(0) { $0 + $1.1 }
        let mean = acc.weightedMean()
        for i in 0..<257 {
            let ref = ups.reduce(0.0) { $0 + Double($1.0[i]) * $1.1 } / total
            #expect(abs(Double(mean[i]) - ref) <= max(abs(ref) * 1.2e-7, 1e-11), "element \(i): \(mean[i]) vs \(ref)")
        }
    }

    @Test("large contributions take the wide path and give the same integers as the fast path")
    func widePath() throws {
        // 3000 * 2000 exceeds the fast range (2^11 with 40 fraction bits) and forces the high words.
        let x: [Float] = [2000, -2000, 0.5, 1e-3]
        var big = ExactAccumulator(count: 4)
        try big.add(x, weight: 3000)
        for i in 0..<4 { #expect(Double(big.units(at: i)) == (Double(x[i]) * 3000 * 0x1p40).rounded()) }
        #expect(big.weightedMean() == x)
        // Many contributions cross the carry interval without losing anything.
        var many = ExactAccumulator(count: 1)
        for _ in 0..<5000 { try many.add([1.25], weight: 1000) }
        #expect(many.weightedMean() == [1.25])
        #expect(many.sums() == [1.25 * 1000 * 5000])
    }

    @Test("on long vectors split across threads, a failure anywhere undoes every range exactly")
    func parallelUndo() throws {
        let n = 600_001
        var rng = RandomSource(seed: 8)
        let base = (0..<n).map { _ in Float(rng.gaussian()) }
        var acc = ExactAccumulator(count: n)
        try acc.add(base, weight: 3)
        let before = acc
        var withNaN = base
        withNaN[n - 1] = .nan
        #expect(throws: AccumulatorError.self) { try acc.add(withNaN, weight: 2) }
        #expect(acc == before)
        // A large value late in the vector forces the wide path after the fast pass has been undone.
        var big = base
        big[n - 5] = 4000
        try acc.add(big, weight: 1000)
        let sums = acc.sums()
        #expect(sums[n - 5] == Double(base[n - 5]) * 3 + 4_000_000)
        #expect(sums[7] == Double(base[7]) * 3 + Double(base[7]) * 1000)
    }

    @Test("bad input is refused and leaves the sum unchanged")
    func refusesBadInput() throws {
        var acc = ExactAccumulator(count: 3)
        try acc.add([1, 2, 3], weight: 2)
        let before = acc
        #expect(throws: AccumulatorError.self) { try acc.add([1, .nan, 3], weight: 1) }
        #expect(throws: AccumulatorError.self) { try acc.add([1, 2], weight: 1) }
        #expect(throws: AccumulatorError.self) { try acc.add([1, 2, 3], weight: -1) }
        #expect(throws: AccumulatorError.self) { try acc.add([1, 3e30, 3], weight: 1) }
        #expect(acc == before)
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: [1, 2, 3]) }
        // A header claiming more elements than the bytes hold (or an element count beyond Int) is an error, not a
        // trap: a partial sum arrives from the network.
        var forged = acc.serialized()
        for b in 32..<40 { forged[b] = 0xFF }
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: forged) }
        forged = acc.serialized()
        forged[32] = 4
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: forged) }
        forged = acc.serialized()
        for b in 8..<16 { forged[b] = 0xFF }
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: forged) }
        #expect(try ExactAccumulator(serialized: acc.serialized()).serialized() == acc.serialized())
    }

    @Test("The compact form holds the same state in fewer bytes; truncated, overlong or padded compact input is an error")
    func compactForm() throws {
        var rng = RandomSource(seed: 5)
        var acc = ExactAccumulator(count: 1000)
        for _ in 0..<20 {
            let x = (0..<1000).map { _ in Float(rng.gaussian() * 0.01) }
            try acc.add(x, weight: Double(100 + rng.next() % 900))
        }
        try acc.add((0..<1000).map { $0 < 10 ? -3e4 : 0 }, weight: 1)  // a few large negative sums too
        let compact = acc.compactSerialized()
        let restored = try ExactAccumulator(serialized: compact)
        #expect(restored.serialized() == acc.serialized())
        #expect(restored.weightedMean() == acc.weightedMean())
        #expect(compact.count < acc.serialized().count / 2, "\(compact.count) vs \(acc.serialized().count) bytes")
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: Array(compact.dropLast())) }
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: compact + [0]) }
        var overlong = Array(compact.prefix(41))
        for b in 33..<41 { overlong[b] = b == 33 ? 1 : 0 }  // one element, encoded in more than 128 bits
        overlong += [UInt8](repeating: 0xFF, count: 20) + [0x01]
        #expect(throws: AccumulatorError.self) { try ExactAccumulator(serialized: overlong) }
        var empty = ExactAccumulator(count: 0)
        try empty.add([], weight: 1)
        #expect(try ExactAccumulator(serialized: empty.compactSerialized()).serialized() == empty.serialized())
    }
}
