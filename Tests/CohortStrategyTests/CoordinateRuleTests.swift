import CohortModel
import CohortStrategy
import Testing

@Suite("Coordinate-wise median and trimmed mean")
struct CoordinateRuleTests {
    @Test("median of three vectors is the middle value of each coordinate")
    func medianOfThree() throws {
        let u = Rounds.updates([("a", [1, 5, -2]), ("b", [3, 0, 4]), ("c", [2, 9, 1])])
        let o = try Rounds.outcome(CoordinateMedian(), u)
        #expect(o.global.flat == [2, 5, 1])
        #expect(o.isApplied && o.excluded.isEmpty)
        let moved = try Rounds.outcome(CoordinateMedian(), u, global: ModelParameters(
            layout: ParameterLayout([("w", [3])]), flat: [10, 10, 10]))
        #expect(moved.global.flat == [12, 15, 11])
    }

    @Test("median of four vectors is the mean of the two middle values")
    func medianOfFour() throws {
        let u = Rounds.updates([("a", [1, 5, -2]), ("b", [3, 0, 4]), ("c", [2, 9, 1]), ("d", [0, 1, 7])])
        #expect(try Rounds.outcome(CoordinateMedian(), u).global.flat == [1.5, 3, 2.5])
    }

    @Test("one huge value cannot move the median, but moves the mean")
    func medianIgnoresOutlier() throws {
        let u = Rounds.updates([("a", [1]), ("b", [2]), ("c", [3]), ("d", [4]), ("z", [1e9])])
        #expect(try Rounds.outcome(CoordinateMedian(), u).global.flat == [3])
    }

    @Test("trimmed mean drops ⌊βn⌋ values at each end of each coordinate")
    func trimmedMean() throws {
        let u = Rounds.updates([("a", [1, -50]), ("b", [2, 0]), ("c", [3, 1]), ("d", [4, 2]), ("e", [100, 3])])
        // β = 0.2, n = 5: one value trimmed at each end.
        #expect(try Rounds.outcome(TrimmedMean(trimFraction: 0.2), u).global.flat == [3, 1])
        // β = 0.1: ⌊0.5⌋ = 0 trimmed, the plain mean.
        #expect(try Rounds.outcome(TrimmedMean(trimFraction: 0.1), u).global.flat == [22, Float(-8.8)])
        // β = 0.45: ⌊2.25⌋ = 2 trimmed at each end leaves the median.
        #expect(try Rounds.outcome(TrimmedMean(trimFraction: 0.45), u).global.flat == [3, 1])
        #expect(TrimmedMean(trimFraction: 0.25).trimmed(of: 4) == 1)
        #expect(TrimmedMean(trimFraction: 0.25).trimmed(of: 3) == 0)
    }

    @Test("coordinates beyond one block give the same answer as a naive per-coordinate median")
    func manyCoordinates() throws {
        // 3 x 10,000 parameters: several 4,096-coordinate blocks, and large enough to run blocks in parallel.
        let u = Rounds.random(count: 7, d: 10_000, seed: 3)
        let fast = try Rounds.outcome(CoordinateMedian(), u).global.flat
        let naive = (0..<10_000).map { j in u.map { $0.delta[j] }.sorted()[3] }
        #expect(fast == naive)
        let trimmed = try Rounds.outcome(TrimmedMean(trimFraction: 0.3), u).global.flat
        let naiveTrimmed = (0..<10_000).map { j -> Float in
            let s = u.map { Double($0.delta[j]) }.sorted()
            return Float(s[2..<5].reduce(0, +) / 3)
        }
        #expect(trimmed == naiveTrimmed)
    }
}
