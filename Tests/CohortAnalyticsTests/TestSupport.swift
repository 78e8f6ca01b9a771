import CohortAnalytics
import CohortData
import CohortPrivacy
import CohortTesting
import Foundation
import Testing

/// Whether two values agree to `relative` (with an absolute floor for values near zero).
func close(_ a: Double?, _ b: Double?, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let x?, let y?): return abs(x - y) <= relative * max(abs(x), abs(y)) + absolute
    default: return false
    }
}

/// A policy that releases everything (k = 1, min and max allowed): the federation then equals the pool.
let openPolicy = SiteAnalyticsPolicy(allowedStatistics: Set(Statistic.all), minimumCellCount: 1, allowMinMax: true)

/// Every statistic, including min and max.
func everyStatistic(columns: [String] = [], groupBy: String? = nil, filter: String? = nil) throws -> StatisticsQuery {
    StatisticsQuery(statistics: Statistic.all, columns: columns, groupBy: groupBy, filter: try filter.map { try RowFilter.parse($0) },
                    releaseMinMax: true, minimumCellCount: 1)
}

/// All rows of every site as one table.
func pooledTable(_ federation: Federation, rows: StatisticsQuery.Rows = .all) -> Table {
    let tables: [Table] = federation.sites.flatMap { s -> [Table] in
        switch rows {
        case .all: [s.train, s.test]
        case .train: [s.train]
        case .test: [s.test]
        }
    }
    return Table.concatenate(tables, source: "pooled")!
}

/// The statistics of the pooled rows under the same plan, as if one site held everything.
func pooledStatistics(_ result: StatisticsResult, federation: Federation) throws -> MergedStatistics {
    let site = SiteAnalytics(site: "pooled", policy: openPolicy)
    var noise = SecureNoiseSource()
    guard case .released(let s) = site.answer(result.plan, table: pooledTable(federation, rows: result.plan.query.rows), noise: &noise) else {
        Issue.record("the pooled site refused")
        return result.federation
    }
    return try FederatedMerge.merge([s], plan: result.plan)
}

/// Records an issue for every merged value that differs from the pooled one by more than `relative`.
func expectSame(_ a: MergedStatistics, _ b: MergedStatistics, relative: Double = 1e-9, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.groups.map(\.key) == b.groups.map(\.key), sourceLocation: sourceLocation)
    var compared = 0
    func check(_ x: Double?, _ y: Double?, _ what: @autoclosure () -> String) {
        compared += 1
        if !close(x, y, relative: relative) {
            Issue.record("\(what()): federated \(x.map { "\($0)" } ?? "nil") vs pooled \(y.map { "\($0)" } ?? "nil")", sourceLocation: sourceLocation)
        }
    }
    for (ga, gb) in zip(a.groups, b.groups) {
        check(ga.rows, gb.rows, "\(ga.key) rows")
        for (ca, cb) in zip(ga.columns, gb.columns) {
            let at = "\(ga.key)/\(ca.column)"
            check(ca.count, cb.count, "\(at) count")
            check(ca.missing, cb.missing, "\(at) missing")
            check(ca.sum, cb.sum, "\(at) sum")
            check(ca.mean, cb.mean, "\(at) mean")
            check(ca.variance, cb.variance, "\(at) variance")
            check(ca.standardDeviation, cb.standardDeviation, "\(at) std")
            check(ca.minimum, cb.minimum, "\(at) min")
            check(ca.maximum, cb.maximum, "\(at) max")
            #expect(ca.histogram?.counts.count == cb.histogram?.counts.count, sourceLocation: sourceLocation)
            for (i, (x, y)) in zip(ca.histogram?.counts ?? [], cb.histogram?.counts ?? []).enumerated() { check(x, y, "\(at) bin \(i)") }
            #expect(ca.levels?.counts.count == cb.levels?.counts.count, sourceLocation: sourceLocation)
            for (i, (x, y)) in zip(ca.levels?.counts ?? [], cb.levels?.counts ?? []).enumerated() { check(x, y, "\(at) level \(i)") }
            #expect(ca.quantiles?.count == cb.quantiles?.count, sourceLocation: sourceLocation)
            for (qa, qb) in zip(ca.quantiles ?? [], cb.quantiles ?? []) {
                check(qa.value, qb.value, "\(at) q\(qa.probability)")
                check(qa.lower, qb.lower, "\(at) q\(qa.probability) lower")
                check(qa.upper, qb.upper, "\(at) q\(qa.probability) upper")
            }
        }
        #expect((ga.covariance == nil) == (gb.covariance == nil), sourceLocation: sourceLocation)
        if let va = ga.covariance, let vb = gb.covariance {
            check(va.count, vb.count, "\(ga.key) complete cases")
            for i in va.columns.indices {
                check(va.means[i], vb.means[i], "\(ga.key) covariance mean \(i)")
                for j in va.columns.indices {
                    check(va.covariance[i][j], vb.covariance[i][j], "\(ga.key) cov[\(va.columns[i]), \(va.columns[j])]")
                    check(va.correlation[i][j], vb.correlation[i][j], "\(ga.key) cor[\(va.columns[i]), \(va.columns[j])]")
                }
            }
        }
    }
    #expect(compared > 0, sourceLocation: sourceLocation)
}

/// The Fed-Heart-Disease FLamby split, or nil (with a printed note) when the shared data folder is absent.
func heartDisease() throws -> Federation? {
    guard let found = SharedData.directory?.appendingPathComponent("heart-disease/flamby-split"),
          FileManager.default.fileExists(atPath: found.path) else {
        print("skipping: Fed-Heart-Disease data not found (expected ../shared/data/heart-disease/flamby-split)")
        return nil
    }
    return try FederationLoader.directory(found)
}
