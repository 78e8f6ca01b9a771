import CohortModel
import CohortStrategy
import Testing

@Suite("Buffered aggregator")
struct BufferedAggregatorTests {
    @Test("bad updates are refused with a reason, like FedAvg's, and nothing is kept")
    func refusesBadUpdates() throws {
        var agg = CoordinateMedian().makeAggregator(for: Rounds.plan(["a", "b"]), global: Rounds.zeros(3))
        try agg.accept(Rounds.update("a", [1, 2, 3]))
        let cases: [(SiteUpdate, String)] = [
            (Rounds.update("b", [1, .nan, 3]), "NaN"),
            (Rounds.update("b", [1, -.infinity, 3]), "inf"),
            (Rounds.update("b", [1, 2]), "2 values"),
            (Rounds.update("c", [1, 2, 3]), "not selected"),
            (Rounds.update("a", [1, 2, 3]), "second update"),
            (Rounds.update("b", [1, 2, 3], examples: 0), "zero examples"),
        ]
        for (u, word) in cases {
            let e = #expect(throws: SiteFailure.self) { try agg.accept(u) }
            #expect(e?.code == .rejected)
            #expect(e?.message.contains(word) == true, "\(e?.message ?? "") should mention \(word)")
        }
        #expect(agg.acceptedSites == ["a"])
        #expect(agg.updates.map(\.delta) == [[1, 2, 3]])
        try agg.accept(Rounds.update("b", [4, 5, 6], examples: 7))
        #expect(agg.sortedUpdates.map(\.site) == ["a", "b"])
        #expect(agg.siteTraining["b"]?.examples == 7)
    }
}
