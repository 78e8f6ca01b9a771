import CohortModel
import CohortStrategy
import CohortTensor
import Testing

@Suite("Krum and Multi-Krum")
struct KrumTests {
    /// Five honest points around (0.5, 0.5) and one attacker far away.
    static let square = Rounds.updates([
        ("a", [0, 0]), ("b", [1, 0]), ("c", [0, 1]), ("d", [1, 1]), ("e", [0.5, 0.5]), ("z", [10, 10]),
    ])

    @Test("Krum applies the update with the lowest score: the centre of the honest cluster")
    func krumChoosesCentre() throws {
        // n = 6, f = 1: each score sums the 3 nearest squared distances; e scores 1.5, a-d 2.5, z far more.
        let o = try Rounds.outcome(Krum(byzantine: 1), Self.square)
        #expect(o.global.flat == [0.5, 0.5])
        #expect(o.excluded.map(\.site) == ["a", "b", "c", "d", "z"])
        #expect(o.excluded.allSatisfy { $0.code == .excluded })
        #expect(o.excluded.last?.message.contains("scored") == true)
    }

    @Test("Multi-Krum averages the m lowest scores, ties going to the site name that sorts first")
    func multiKrum() throws {
        // m = 2: e (1.5), then a, b, c, d tie at 2.5 and a is first by name.
        let two = try Rounds.outcome(Krum(byzantine: 1, selected: 2), Self.square)
        #expect(two.global.flat == [0.25, 0.25])
        #expect(two.excluded.map(\.site) == ["b", "c", "d", "z"])
        // m = n - f = 5: the five honest updates, whose mean is (0.5, 0.5); the attacker is excluded.
        let honest = try Rounds.outcome(Krum(byzantine: 1, selected: nil), Self.square)
        #expect(honest.global.flat == [0.5, 0.5])
        #expect(honest.excluded.map(\.site) == ["z"])
        #expect(Krum(byzantine: 1, selected: nil).name == "multi-krum" && Krum(byzantine: 1).name == "krum")
    }

    @Test("Krum picks an honest update when f attackers collude on one point in many dimensions")
    func krumInHighDimension() throws {
        // 9 honest updates around a common direction, 3 attackers sending the same -4x update (a tight cluster of
        // their own). d = 10,000 spans three GEMM blocks.
        var updates = Rounds.random(count: 9, d: 10_000, seed: 11)
        let evil = updates[0].delta.map { $0 * -4 }
        for k in 0..<3 { updates.append(Rounds.update("zz-\(k)", evil)) }
        let o = try Rounds.outcome(Krum(byzantine: 3), updates)
        let honest = updates.prefix(9)
        let chosen = try #require(honest.first { o.global.isClose(to: $0.delta, tolerance: 1e-9) })
        // The same choice as scores computed naively in Float64.
        let n = updates.count
        func d2(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } }
        let scores = updates.map { u in updates.filter { $0.site != u.site }.map { d2(u.delta, $0.delta) }.sorted().prefix(n - 3 - 2).reduce(0, +) }
        let best = updates[scores.indices.min { scores[$0] < scores[$1] }!]
        #expect(chosen.site == best.site)
        #expect(Set(o.excluded.map(\.site)).isSuperset(of: ["zz-0", "zz-1", "zz-2"]))
    }

    @Test("a round with fewer than 2f + 3 updates is declined and leaves the model unchanged")
    func tooFewUpdates() throws {
        let o = try Rounds.outcome(Krum(byzantine: 2), Array(Self.square.prefix(6)))
        #expect(!o.isApplied)
        #expect(o.global.flat == [0, 0])
        #expect(o.notes.first?.contains("at least 7 updates") == true)
    }
}
