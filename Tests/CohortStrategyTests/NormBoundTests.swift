import CohortModel
import CohortStrategy
import Testing

@Suite("Norm bounding")
struct NormBoundTests {
    /// Norms 5, 1, 1, 2, 100 (median 2), example counts 10, 10, 30, 10, 40.
    static let updates = [
        Rounds.update("a", [3, 4], examples: 10), Rounds.update("b", [0, 1], examples: 10),
        Rounds.update("c", [1, 0], examples: 30), Rounds.update("d", [0, -2], examples: 10),
        Rounds.update("z", [60, 80], examples: 40),
    ]

    @Test("clip: updates above multiple × median norm are scaled to the bound, then averaged by examples")
    func clip() throws {
        // Bound 2 × 2 = 4: a becomes (2.4, 3.2), z becomes (2.4, 3.2).
        // Mean: x = (10·2.4 + 30·1 + 40·2.4) / 100 = 1.5; y = (10·3.2 + 10·1 - 10·2 + 40·3.2) / 100 = 1.5.
        let o = try Rounds.outcome(NormBound(multiple: 2, mode: .clip), Self.updates)
        #expect(o.global.isClose(to: [1.5, 1.5], tolerance: 1e-5), "\(o.global.flat)")
        #expect(o.excluded.isEmpty)
        #expect(o.notes.count == 2)
        #expect(o.notes[0].hasPrefix("a: update norm 5.0 exceeds 2.0 × the round's median norm 2.0; clipped to 4.0"))
        #expect(o.notes[1].hasPrefix("z: update norm 100.0"))
    }

    @Test("drop: updates above the bound are excluded and reported; FedAvg over the rest")
    func drop() throws {
        // b, c, d remain with weights 10, 30, 10: x = 30 / 50, y = (10 - 20) / 50.
        let o = try Rounds.outcome(NormBound(multiple: 2, mode: .drop), Self.updates)
        #expect(o.global.isClose(to: [0.6, -0.2], tolerance: 1e-7), "\(o.global.flat)")
        #expect(o.excluded.map(\.site) == ["a", "z"])
        #expect(o.excluded.allSatisfy { $0.code == .excluded && $0.message.hasSuffix("dropped") })
        #expect(o.notes.isEmpty)
    }

    @Test("a larger multiple bounds only the outlier; the median of an even count is the mean of the middle two")
    func multipleAndEvenCount() throws {
        let o = try Rounds.outcome(NormBound(multiple: 3, mode: .drop), Self.updates)
        #expect(o.excluded.map(\.site) == ["z"])
        // Four updates, norms 5, 1, 1, 2: median 1.5, bound 1.5 with multiple 1: a and d are clipped.
        let four = try Rounds.outcome(NormBound(multiple: 1, mode: .clip), Array(Self.updates.prefix(4)))
        #expect(four.notes.map { $0.prefix(2) } == ["a:", "d:"])
        #expect(four.notes[1].contains("clipped to 1.5"))
    }
}
