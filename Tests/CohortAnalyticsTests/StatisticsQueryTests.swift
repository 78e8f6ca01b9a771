import CohortAnalytics
import CohortData
import Foundation
import Testing

@Suite("Query files and filters")
struct StatisticsQueryTests {
    @Test("A query file parses with every option")
    func parsesYAML() throws {
        let q = try StatisticsQuery.parse(yaml: """
            statistics: [count, mean, std, histogram, quantiles, missing, correlation, min, max]
            columns: [age, length_of_stay]
            group_by: admission_type
            filter: "age >= 65 and (sex == female or icu_stay == 1)"
            rows: train
            histogram: {bins: 8, ranges: {age: [18, 98]}}
            quantiles: {probabilities: [0.5, 0.9], resolution: 400}
            release_min_max: true
            min_cell_count: 10
            privacy: {mechanism: gaussian, epsilon: 1.5, delta: 1e-6}
            """)
        #expect(q.statistics.contains(.correlation) && q.statistics.contains(.minimum))
        #expect(q.groupBy == "admission_type" && q.rows == .train && q.minimumCellCount == 10)
        #expect(q.histogram == .init(bins: 8, ranges: ["age": [18, 98]]))
        #expect(q.quantiles.resolution == 400)
        #expect(q.privacy == PrivacyRequest(mechanism: .gaussian, epsilon: 1.5, delta: 1e-6))
        #expect(q.filter == .and([.comparison(column: "age", op: .greaterOrEqual, value: "65"),
                                  .or([.comparison(column: "sex", op: .equal, value: "female"), .comparison(column: "icu_stay", op: .equal, value: "1")])]))
        // Round trip through JSON (the plan digest depends on it).
        let again = try JSONDecoder().decode(StatisticsQuery.self, from: try JSONEncoder().encode(q))
        #expect(again == q)
    }

    @Test("Bad queries fail with a message that says what to do", arguments: [
        ("statistics: [median]", "unknown statistic"),
        ("statistics: [min]", "release_min_max"),
        ("statistics: [mean]\nfilter: \"age ~ 3\"", "operator"),
        ("statistics: [mean]\nfilter: \"(age > 3\"", "parenthesis"),
        ("statistics: []", "no statistics"),
        ("statistics: [quantiles]\nquantiles: {probabilities: [1.5]}", "between 0 and 1"),
        ("statistics: [mean]\nprivacy: {mechanism: laplace, epsilon: -1}", "epsilon"),
    ])
    func badQueries(_ c: (String, String)) {
        do {
            _ = try StatisticsQuery.parse(yaml: c.0)
            Issue.record("accepted: \(c.0)")
        } catch {
            #expect(error.message.contains(c.1), "\(error.message)")
        }
    }

    @Test("Decoding errors name the file, the line and the key", arguments: [
        ("statistics: [mean]\ncolumns: [age]\nhistogram:\n  ranges: {age: [0, 100]}\n  bins: many\n", "q.yaml:5: wrong value at histogram.bins"),
        ("columns: [age]\nstatistics: [mean, median]\n", "q.yaml:2: at statistics[1]: unknown statistic 'median'"),
        ("statistics: [mean]\nfilter: \"age >= 65 and (sex == female\"\n", "q.yaml:2: at filter: filter"),
    ])
    func errorLines(_ c: (String, String)) {
        do {
            _ = try StatisticsQuery.parse(yaml: c.0, source: "q.yaml")
            Issue.record("accepted: \(c.0)")
        } catch {
            #expect(error.message.hasPrefix(c.1), "\(error.message)")
        }
    }

    @Test("Filters check column types against the schema")
    func filterTypes() throws {
        let schema = SyntheticHospitalNetwork.schema()
        try RowFilter.parse("age > 40 and insurance != self_pay").validate(against: schema)
        #expect(throws: AnalyticsError.self) { try RowFilter.parse("age == old").validate(against: schema) }
        #expect(throws: AnalyticsError.self) { try RowFilter.parse("sex > male").validate(against: schema) }
        #expect(throws: AnalyticsError.self) { try RowFilter.parse("sex == other").validate(against: schema) }
        #expect(throws: AnalyticsError.self) { try RowFilter.parse("height > 1").validate(against: schema) }
        #expect(try RowFilter.parse("a = 1 or b is not missing and c < 'x y'").description == "a == 1 or b is not missing and c < \"x y\"")
    }

    @Test("Histogram grids place every value in the same cell at every site")
    func binGrid() {
        let g = BinGrid(lower: 0, upper: 10, bins: 5)
        #expect([-1, 0, 1.99, 2, 9.99, 10, 10.5].map(g.cell(of:)) == [0, 1, 1, 2, 5, 5, 6])
        #expect(g.label(ofCell: 0) == "< 0" && g.label(ofCell: 5) == "[8, 10]" && g.label(ofCell: 6) == "> 10")
        let nice = BinGrid.covering(-143.2, 571.9, bins: 10)
        #expect(nice.lower <= -143.2 && nice.upper >= 571.9 && nice.width == 100)
    }

    @Test("Moments merge exactly and can be removed again")
    func moments() {
        let a: [Double] = [1, 2, 3, 4, 1e8 + 1, 1e8 + 2]
        let b: [Double] = [5, 6, 7]
        let ma = a.withUnsafeBufferPointer { Moments.of($0) }, mb = b.withUnsafeBufferPointer { Moments.of($0) }
        var m = ma
        m.merge(mb)
        let all = (a + b).withUnsafeBufferPointer { Moments.of($0) }
        #expect(m.count == all.count && close(m.mean, all.mean, relative: 1e-15) && close(m.m2, all.m2, relative: 1e-12))
        #expect(m.total == a.reduce(0, +) + b.reduce(0, +))
        let back = m.removing(mb)
        #expect(back.count == ma.count && close(back.mean, ma.mean, relative: 1e-12) && close(back.m2, ma.m2, relative: 1e-9))
    }
}
