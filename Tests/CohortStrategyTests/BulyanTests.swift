import CohortModel
import CohortStrategy
import Testing

@Suite("Bulyan")
struct BulyanTests {
    @Test("repeated Krum selects n - 2f updates, then each coordinate averages the n - 4f values closest to its median")
    func handComputed() throws {
        // n = 7, f = 1: θ = 5 selected, β = 3 averaged per coordinate. Repeated Krum (worked out in
        // docs/robust-aggregation.md, "Worked example") selects c, d, b, e, a; f and the attacker z are left out.
        let u = Rounds.updates([
            ("a", [0, 1]), ("b", [1, 0]), ("c", [2, 0]), ("d", [3, 0]), ("e", [4, 3]), ("f", [5, 0]), ("z", [97, 3]),
        ])
        let o = try Rounds.outcome(Bulyan(byzantine: 1), u)
        // First coordinate: selected 0, 1, 2, 3, 4; the 3 closest to the median 2 are 1, 2, 3.
        // Second: selected 0, 0, 0, 1, 3; the 3 closest to the median 0 are 0, 0, 0 (a symmetric trimmed mean
        // would give 1/3).
        #expect(o.global.flat == [2, 0])
        #expect(o.excluded.map(\.site) == ["f", "z"])
        #expect(o.excluded.allSatisfy { $0.code == .excluded })
    }

    @Test("with f = 0 Bulyan keeps every update and averages them")
    func zeroByzantine() throws {
        let u = Rounds.updates([("a", [1, 2]), ("b", [3, 4]), ("c", [5, 9])])
        let o = try Rounds.outcome(Bulyan(byzantine: 0), u)
        #expect(o.global.flat == [3, 5])
        #expect(o.excluded.isEmpty)
    }

    @Test("n >= 4f + 3 is checked up front with a clear error, and a short round is declined")
    func validation() throws {
        let e = #expect(throws: StrategySpecError.self) { try Bulyan(byzantine: 2).validate(siteCount: 10) }
        #expect(e?.key == "byzantine")
        #expect(e?.message.contains("needs at least 11 sites (n >= 4f + 3); there are 10") == true)
        #expect(throws: Never.self) { try Bulyan(byzantine: 2).validate(siteCount: 11) }
        #expect(throws: StrategySpecError.self) { try StrategySpec.bulyan(byzantine: 4).validate(siteCount: 18) }
        let u = Rounds.updates((0..<6).map { ("s\($0)", [Float($0)]) })
        let o = try Rounds.outcome(Bulyan(byzantine: 1), u)
        #expect(!o.isApplied && o.global.flat == [0])
        #expect(o.notes.first?.contains("n >= 4f + 3") == true)
    }
}
