import CohortData
import CohortTensor
import Testing

@Suite("Encoding and statistics")
struct EncodingTests {
    static let schema = try! DatasetSchema.parse(yaml: """
        columns:
          - {name: x, type: numeric}
          - {name: c, type: categorical, categories: [a, b, c]}
          - {name: f, type: binary, categories: [no, yes]}
          - {name: y, type: categorical, role: label, categories: [low, mid, high]}
        """, source: "s")

    func table(_ csv: String) throws -> Table {
        try TableLoader.load(bytes: Array(csv.utf8), source: "t", schema: Self.schema).table
    }

    @Test("standardises with given statistics, imputes the mean, one-hot encodes, maps labels to classes")
    func encode() throws {
        let t = try table("x,c,f,y\n1,a,no,low\n3,c,yes,high\nNA,,yes,mid\n")
        let stats = TableStatistics(t)
        #expect(stats.columns[0].mean == 2)
        #expect(abs(stats.columns[0].standardDeviation - 2.0.squareRoot()) < 1e-12)
        let enc = FeatureEncoder(schema: Self.schema, statistics: stats, standardize: true)
        #expect(enc.features.map(\.name) == ["x", "c=a", "c=b", "c=c", "f"])
        let e = enc.encode(t)
        let s = Float(1 / 2.0.squareRoot())
        #expect(e.features == [-s, 1, 0, 0, 0,  s, 0, 0, 1, 1,  0, 0, 0, 0, 1])
        #expect(e.labels == [0, 2, 1])
        #expect(e.classCount == 3)
    }

    @Test("merged per-site statistics equal the statistics of the pooled rows")
    func mergeIsExact() throws {
        var rng = RandomSource(seed: 4)
        var parts = [Table]()
        for k in 0..<6 {
            var csv = "x,c,f,y\n"
            for _ in 0..<(50 + 37 * k) { csv += "\(rng.gaussian(mean: Double(k) * 100, standardDeviation: 1 + Double(k))),b,no,low\n" }
            parts.append(try table(csv))
        }
        let merged = TableStatistics.merged(parts.map { TableStatistics($0) })!
        let pooled = TableStatistics(Table.concatenate(parts, source: "all")!)
        #expect(merged.columns[0].count == pooled.columns[0].count)
        #expect(abs(merged.columns[0].mean - pooled.columns[0].mean) <= 1e-12 * abs(pooled.columns[0].mean))
        #expect(abs(merged.columns[0].variance - pooled.columns[0].variance) <= 1e-10 * pooled.columns[0].variance)
        #expect(merged.columns[1].categoryCounts == pooled.columns[1].categoryCounts)
    }
}
