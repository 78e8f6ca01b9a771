import CohortAnalytics
import CohortData
import CohortPrivacy
import CohortTensor
import Foundation
import Testing

@Suite("Disclosure control at the site")
struct DisclosureControlTests {
    /// A one-site table with a numeric column `x`, a categorical `g` and a binary label.
    static func table(x: [Double], g: [String]) throws -> Table {
        let schema = DatasetSchema(columns: [
            ColumnSpec(name: "x", type: .numeric, range: [0, 100]),
            ColumnSpec(name: "g", type: .categorical, categories: ["a", "b", "c"]),
            ColumnSpec(name: "y", type: .binary, role: .label),
        ])
        var csv = "x,g,y\n"
        for (i, (v, c)) in zip(x, g).enumerated() { csv += "\(v.isNaN ? "NA" : String(v)),\(c),\(i % 2)\n" }
        return try TableLoader.load(bytes: Array(csv.utf8), source: "t.csv", schema: schema).table
    }

    static func answer(_ q: StatisticsQuery, _ t: Table, k: Int) throws -> SiteStatistics {
        let plan = try QueryPlanner.plan(q, schema: t.schema)
        var noise = SeededNoiseSource(seed: 1)
        let site = SiteAnalytics(site: "s", policy: SiteAnalyticsPolicy(minimumCellCount: k))
        guard case .released(let s) = site.answer(plan, table: t, noise: &noise) else { throw AnalyticsError(.invalidQuery, "refused") }
        return s
    }

    @Test("A group below k is withheld and marked, never zero")
    func smallGroup() throws {
        // 12 rows in a, 3 in b, 0 in c.
        let t = try Self.table(x: (0..<15).map(Double.init), g: Array(repeating: "a", count: 12) + Array(repeating: "b", count: 3))
        let s = try Self.answer(StatisticsQuery(statistics: [.count, .mean], columns: ["x"], groupBy: "g"), t, k: 5)
        let a = try #require(s.group("a")), b = try #require(s.group("b")), c = try #require(s.group("c"))
        #expect(a.rows.value == 12)
        #expect(a.column("x")?.moments?.mean == 5.5)
        #expect(b.rows.value == nil)
        #expect(b.rows.suppression?.rule == .belowMinimum)
        #expect(b.column("x")?.suppression?.rule == .enclosing)
        #expect(b.column("x")?.moments == nil)
        #expect(c.rows.value == 0, "an empty group is a released zero")
        let csvRows = try StatisticsResult(plan: QueryPlanner.plan(StatisticsQuery(statistics: [.count, .mean], columns: ["x"], groupBy: "g"), schema: t.schema),
                                           answers: [.released(s)]).rows
        let bMean = try #require(csvRows.first { $0.site == "s" && $0.group == "b" && $0.statistic == "mean" })
        #expect(bMean.suppressed && bMean.value == nil && !bMean.note.isEmpty)
    }

    @Test("A column with a few missing values is withheld (its missing count would follow from the row count)")
    func fewMissing() throws {
        var x = (0..<20).map(Double.init)
        x[3] = .nan
        x[7] = .nan
        let t = try Self.table(x: x, g: Array(repeating: "a", count: 20))
        let s = try Self.answer(StatisticsQuery(statistics: [.mean, .missing], columns: ["x"]), t, k: 5)
        let c = try #require(s.groups[0].column("x"))
        #expect(c.suppression?.rule == .complementary)
        #expect(c.count == nil && c.missing == nil && c.moments == nil)
        let open = try Self.answer(StatisticsQuery(statistics: [.mean, .missing], columns: ["x"]), t, k: 2)
        #expect(open.groups[0].column("x")?.missing == 2)
    }

    @Test("Histogram bins below k are withheld with a complementary cell")
    func histogramComplementary() throws {
        // Bins of width 10 over [0, 100]: 20 values in [0, 10), 3 in [50, 60), 9 in [90, 100].
        let x = Array(repeating: 5.0, count: 20) + Array(repeating: 55.0, count: 3) + Array(repeating: 95.0, count: 9)
        let t = try Self.table(x: x, g: Array(repeating: "a", count: x.count))
        let s = try Self.answer(StatisticsQuery(statistics: [.histogram], columns: ["x"], histogram: .init(bins: 10)), t, k: 5)
        let h = try #require(s.groups[0].column("x")?.histogram)
        #expect(h.count == 12)
        #expect(h[6].suppression?.rule == .belowMinimum, "[50, 60) holds 3 < 5")
        #expect(h[10].suppression?.rule == .complementary, "the smallest other non-zero bin (9) is withheld too")
        #expect(h[1].value == 20)
        #expect(h[2].value == 0, "zero bins are released")
        // The withheld cells cannot be recovered: the released ones do not determine either.
        let released = h.compactMap(\.value).reduce(0, +)
        #expect(32 - released == 12)
        #expect(h.filter(\.isSuppressed).count == 2)
    }

    @Test("The complementary rule: at least two withheld cells holding at least k together")
    func familyRule() {
        let r = DisclosureControl.family([1, 1, 50, 0, 30], k: 5)
        #expect(r.map(\.isSuppressed) == [true, true, false, false, true])
        #expect(DisclosureControl.family([4, 10, 10], k: 5).map(\.isSuppressed) == [true, true, false])
        #expect(DisclosureControl.family([6, 10, 0], k: 5).allSatisfy { !$0.isSuppressed })
        #expect(DisclosureControl.family([2, 3], k: 1).allSatisfy { !$0.isSuppressed })
    }

    @Test("Quantile runs each hold at least k records")
    func runs() {
        let counts: [Double] = [0, 1, 0, 2, 5, 0, 0, 1, 1, 0, 3, 0]
        let r = DisclosureControl.runs(counts, k: 3)
        #expect(r.map(\.end) == [1, 4, 5, 11, 12], "empty underflow and overflow cells stand alone")
        #expect(r.map(\.count) == [0, 3, 5, 5, 0])
        let full = DisclosureControl.runs([2, 1, 4, 1], k: 3)
        #expect(full.map(\.end) == [2, 4] && full.map(\.count) == [3, 5])
        #expect(DisclosureControl.runs(counts, k: 1).count == counts.count)
    }

    @Test("A binary column's mean is withheld with its level counts")
    func binaryMean() throws {
        let schema = DatasetSchema(columns: [ColumnSpec(name: "flag", type: .binary), ColumnSpec(name: "y", type: .binary, role: .label)])
        let csv = "flag,y\n" + (0..<30).map { "\($0 < 2 ? 1 : 0),\($0 % 2)" }.joined(separator: "\n")
        let t = try TableLoader.load(bytes: Array(csv.utf8), source: "b.csv", schema: schema).table
        let s = try Self.answer(StatisticsQuery(statistics: [.mean, .histogram], columns: ["flag"]), t, k: 5)
        let c = try #require(s.groups[0].column("flag"))
        #expect(c.levels?.allSatisfy(\.isSuppressed) == true)
        #expect(c.moments == nil, "the mean times the count would reveal the two ones")
        #expect(c.count == 30)
    }

    @Test("Covariance is withheld when complete cases differ from a column's count by fewer than k")
    func covarianceDifferencing() throws {
        let schema = DatasetSchema(columns: [ColumnSpec(name: "a", type: .numeric), ColumnSpec(name: "b", type: .numeric), ColumnSpec(name: "y", type: .binary, role: .label)])
        // 40 rows; b missing in rows 0-19 (20 >= k), a always present. a's count - complete = 20: fine.
        var csv = "a,b,y\n"
        for i in 0..<40 { csv += "\(i),\(i < 20 ? "NA" : String(i * 2)),\(i % 2)\n" }
        let t = try TableLoader.load(bytes: Array(csv.utf8), source: "c.csv", schema: schema).table
        let ok = try Self.answer(StatisticsQuery(statistics: [.covariance], columns: ["a", "b"]), t, k: 5)
        #expect(ok.groups[0].covariance?.moments?.count == 20)
        // Filter to rows 17...39: now 3 rows of b are missing, fewer than k: b is withheld and so is the covariance.
        let filtered = try Self.answer(StatisticsQuery(statistics: [.covariance], columns: ["a", "b"], filter: try RowFilter.parse("a >= 17")), t, k: 5)
        #expect(filtered.groups[0].column("b")?.suppression != nil)
        #expect(filtered.groups[0].covariance?.suppression != nil)
        #expect(filtered.groups[0].covariance?.moments == nil)
    }
}
