import CohortAnalytics
import CohortData
import Foundation
import Testing

@Suite("Federated statistics equal the pooled computation")
struct FederatedStatisticsTests {
    static let synthetic = Result { try FederationLoader.synthetic(seed: 11, hospitals: 12) }

    @Test("Every statistic on the synthetic network, ungrouped")
    func syntheticUngrouped() async throws {
        let fed = try Self.synthetic.get()
        let result = try await FederatedStatistics.run(try everyStatistic(), federation: fed, policy: { _ in openPolicy })
        #expect(result.refusals.isEmpty)
        #expect(result.sites.count == 12)
        expectSame(result.federation, try pooledStatistics(result, federation: fed))
        // Every statistic was actually released (a nil on both sides would compare equal).
        let g = try #require(result.federation.groups.first)
        for c in g.columns {
            #expect(c.excludedSites.isEmpty)
            #expect(c.sum != nil && c.mean != nil && c.variance != nil && c.minimum != nil && c.maximum != nil && c.missing != nil, "\(c.column)")
            #expect(c.histogram?.isComplete == true && c.quantiles?.allSatisfy { $0.value != nil && $0.errorBound != nil } == true)
        }
        #expect(g.covariance?.correlation.joined().allSatisfy { $0 != nil } == true)
        #expect(g.rows == Double(pooledTable(fed).rowCount))
    }

    @Test("Grouped and filtered queries on the synthetic network")
    func syntheticGroupedFiltered() async throws {
        let fed = try Self.synthetic.get()
        for (groupBy, filter) in [("admission_type", nil), (nil, "age >= 65 and sex == female"),
                                  ("smoking", "(primary_diagnosis == heart_failure or charlson_index > 3) and albumin is not missing")] {
            let q = try everyStatistic(columns: ["age", "creatinine", "albumin", "glucose", "sex", "insurance"], groupBy: groupBy, filter: filter)
            let result = try await FederatedStatistics.run(q, federation: fed, policy: { _ in openPolicy })
            expectSame(result.federation, try pooledStatistics(result, federation: fed))
            if groupBy == "smoking" { #expect(result.federation.groups.map(\.key) == ["never", "former", "current", "(missing)"]) }
        }
    }

    @Test("Merged moments and covariance match a naive two-pass computation")
    func naiveReference() async throws {
        let fed = try Self.synthetic.get()
        let q = StatisticsQuery(statistics: [.count, .mean, .variance, .covariance, .correlation], columns: ["age", "hemoglobin", "glucose"], minimumCellCount: 1)
        let result = try await FederatedStatistics.run(q, federation: fed, policy: { _ in openPolicy })
        let pooled = pooledTable(fed)
        let group = try #require(result.federation.groups.first)
        var arrays = [[Double]]()
        for name in q.columns {
            guard case .numeric(let all)? = pooled.values(of: name) else { Issue.record("not numeric"); return }
            arrays.append(all)
            let v = all.filter { !$0.isNaN }
            let mean = v.reduce(0, +) / Double(v.count)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)
            let c = try #require(group.column(name))
            #expect(c.count == Double(v.count))
            #expect(close(c.mean, mean, relative: 1e-12), "\(name) mean")
            #expect(close(c.variance, variance, relative: 1e-10), "\(name) variance")
        }
        let complete = pooled.lines.indices.filter { r in arrays.allSatisfy { !$0[r].isNaN } }
        let cov = try #require(group.covariance)
        #expect(cov.count == Double(complete.count))
        let means = arrays.map { a in complete.map { a[$0] }.reduce(0, +) / Double(complete.count) }
        for i in 0..<3 {
            for j in 0..<3 {
                let c = complete.map { (arrays[i][$0] - means[i]) * (arrays[j][$0] - means[j]) }.reduce(0, +) / Double(complete.count - 1)
                #expect(close(cov.covariance[i][j], c, relative: 1e-10), "cov \(i) \(j)")
            }
        }
    }

    @Test("Quantiles lie within their stated error bound")
    func quantileBounds() async throws {
        let fed = try Self.synthetic.get()
        for k in [1, 5, 20] {
            let policy = SiteAnalyticsPolicy(minimumCellCount: k)
            let q = StatisticsQuery(statistics: [.quantiles], columns: ["age", "length_of_stay", "glucose"],
                                    quantiles: .init(probabilities: [0.01, 0.1, 0.5, 0.9, 0.99], resolution: 500))
            let result = try await FederatedStatistics.run(q, federation: fed, policy: { _ in policy })
            let pooled = pooledTable(fed)
            for name in q.columns {
                guard case .numeric? = pooled.values(of: name) else { continue }
                let c = try #require(result.federation.groups[0].column(name))
                // Only sites that released the column count; with k > 1 some may have withheld it.
                let released = Set(result.sites.filter { $0.groups[0].column(name)?.suppression == nil }.map(\.site))
                let values = fed.sites.filter { released.contains($0.name) }.flatMap { s -> [Double] in
                    [s.train, s.test].flatMap { t -> [Double] in
                        if case .numeric(let v)? = t.values(of: name) { return v.filter { !$0.isNaN } }
                        return []
                    }
                }.sorted()
                #expect(Double(values.count) == c.count)
                for est in try #require(c.quantiles) {
                    let rank = Int((est.probability * Double(values.count)).rounded(.up))
                    let truth = values[max(0, rank - 1)]
                    let lo = try #require(est.lower), hi = try #require(est.upper), v = try #require(est.value)
                    #expect(lo <= truth && truth <= hi, "k=\(k) \(name) p=\(est.probability): \(truth) outside [\(lo), \(hi)]")
                    let bound = try #require(est.errorBound)
                    #expect(abs(v - truth) <= bound + 1e-9)
                    if k == 1 { #expect(hi - lo <= result.plan.columns.first { $0.name == name }!.quantileGrid!.width * 1.000001) }
                }
            }
        }
    }

    @Test("Fed-Heart-Disease: every statistic, grouped and filtered, equals the pooled computation")
    func heartDiseaseExact() async throws {
        guard let fed = try heartDisease() else { return }
        for (groupBy, filter) in [(nil, nil), ("sex", nil), (nil, "age >= 55"), ("exang", "chol > 0 and age < 70")] as [(String?, String?)] {
            let q = try everyStatistic(columns: [], groupBy: groupBy, filter: filter)
            let result = try await FederatedStatistics.run(q, federation: fed, policy: { _ in openPolicy })
            #expect(result.sites.map(\.site) == ["center0", "center1", "center2", "center3"])
            expectSame(result.federation, try pooledStatistics(result, federation: fed))
        }
    }

    @Test("Merging is independent of the order answers arrive in")
    func orderIndependent() async throws {
        let fed = try Self.synthetic.get()
        let result = try await FederatedStatistics.run(try everyStatistic(columns: ["age", "bmi"]), federation: fed, policy: { _ in openPolicy })
        let shuffled = try FederatedMerge.merge(result.sites.reversed(), plan: result.plan)
        #expect(shuffled == result.federation)
    }

    @Test("Partials answering another plan are refused")
    func planMismatch() async throws {
        let fed = try Self.synthetic.get()
        let a = try await FederatedStatistics.run(StatisticsQuery(statistics: [.mean], columns: ["age"]), federation: fed)
        let b = try await FederatedStatistics.run(StatisticsQuery(statistics: [.mean], columns: ["bmi"]), federation: fed)
        #expect(throws: AnalyticsError.self) { try FederatedMerge.merge(a.sites + b.sites, plan: a.plan) }
    }
}

@Suite("Secure aggregation encoding")
struct AdditiveStatisticsTests {
    @Test("The sum of the sites' vectors decodes to the merged statistics, with and without suppression")
    func sumDecodesToMerge() async throws {
        let fed = try FederatedStatisticsTests.synthetic.get()
        let q = StatisticsQuery(statistics: [.count, .sum, .mean, .variance, .standardDeviation, .histogram, .missing, .covariance, .correlation],
                                columns: ["age", "creatinine", "albumin", "sex", "insurance"], groupBy: "admission_type",
                                filter: try RowFilter.parse("age >= 50"))
        for policy in [openPolicy, SiteAnalyticsPolicy(minimumCellCount: 5)] {
            var query = q
            query.minimumCellCount = policy.minimumCellCount
            let result = try await FederatedStatistics.run(query, federation: fed, policy: { _ in policy })
            let plan = result.plan
            let length = try AdditiveStatistics.length(of: plan)
            var total = [Double](repeating: 0, count: length)
            for s in result.sites {
                let v = try AdditiveStatistics.encode(s, plan: plan)
                #expect(v.count == length)
                for i in v.indices { total[i] += v[i] }
            }
            let decoded = try AdditiveStatistics.decode(total, plan: plan, sites: result.sites.count)
            expectSame(decoded, result.federation)
            // The number of withholding sites survives; their names do not.
            for (a, b) in zip(decoded.groups, result.federation.groups) {
                for (ca, cb) in zip(a.columns, b.columns) {
                    #expect(ca.excludedSites == (cb.excludedSites.isEmpty ? [] : ["\(cb.excludedSites.count) of \(result.sites.count) sites"]))
                }
            }
            if policy.minimumCellCount == 1 { expectSame(decoded, try pooledStatistics(result, federation: fed)) }
        }
    }

    @Test("Statistics that do not add up are refused under secure aggregation")
    func refusesQuantiles() throws {
        let fed = try FederatedStatisticsTests.synthetic.get()
        let plan = try QueryPlanner.plan(StatisticsQuery(statistics: [.mean, .quantiles], columns: ["age"]), schema: fed.schema)
        let error = try #require(throws: AnalyticsError.self) { try AdditiveStatistics.length(of: plan) }
        #expect(error.message.contains("quantiles") && error.message.contains("histogram"))
    }
}
