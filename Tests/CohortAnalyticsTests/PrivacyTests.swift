import CohortAnalytics
import CohortData
import CohortPrivacy
import CohortTensor
import Foundation
import Testing

@Suite("Differential privacy noise and site policies")
struct PrivacyTests {
    static let synthetic = Result { try FederationLoader.synthetic(seed: 5, hospitals: 6) }

    @Test("Laplace draws have the stated scale")
    func laplaceScale() {
        var rng = SeededNoiseSource(seed: 9)
        let b = 2.5
        let mechanism = LaplaceMechanism(scale: b)
        let draws = (0..<200_000).map { _ in mechanism.sample(using: &rng) }
        let meanAbs = draws.map(abs).reduce(0, +) / Double(draws.count)   // E|X| = b
        let variance = draws.map { $0 * $0 }.reduce(0, +) / Double(draws.count)  // 2 b^2
        #expect(abs(meanAbs - b) < 0.02 * b)
        #expect(abs(variance - 2 * b * b) < 0.03 * 2 * b * b)
        // The CDF at b: 1 - exp(-1)/2.
        let below = Double(draws.filter { $0 <= b }.count) / Double(draws.count)
        #expect(abs(below - (1 - Math.exp(-1) / 2)) < 0.005)
    }

    @Test("The analytic Gaussian calibration meets delta and is tighter than the classical bound")
    func gaussianCalibration() {
        for (eps, delta) in [(0.5, 1e-5), (1.0, 1e-6), (4.0, 1e-5)] {
            let sigma = NoiseCalibration.gaussianSigma(sensitivity: 1, epsilon: eps, delta: delta)
            #expect(NoiseCalibration.gaussianDelta(sigma: sigma, sensitivity: 1, epsilon: eps) <= delta * (1 + 1e-9))
            #expect(NoiseCalibration.gaussianDelta(sigma: sigma * 0.99, sensitivity: 1, epsilon: eps) > delta)
            if eps < 1 { #expect(sigma < (2 * Math.log(1.25 / delta)).squareRoot() / eps) }
        }
    }

    @Test("Released counts carry noise of the stated scale, and the spend is reported")
    func noisyCountsHaveStatedScale() throws {
        let fed = try Self.synthetic.get()
        let site = fed.sites[0]
        let q = StatisticsQuery(statistics: [.count, .mean], columns: ["age"], minimumCellCount: 5,
                                privacy: PrivacyRequest(mechanism: .laplace, epsilon: 0.8))
        let plan = try QueryPlanner.plan(q, schema: fed.schema)
        let analytics = SiteAnalytics(site: site.name, policy: .standard)
        let exactRows = Double(plan.tables(of: site).reduce(0) { $0 + $1.rowCount })
        var rng = SeededNoiseSource(seed: 3)
        var deviations = [Double]()
        var accounting: PrivacyAccounting?
        for _ in 0..<4000 {
            guard case .released(let s) = analytics.answer(plan, data: site, noise: &rng) else { Issue.record("refused"); return }
            deviations.append(try #require(s.groups[0].rows.value) - exactRows)
            accounting = s.privacy
        }
        let a = try #require(accounting)
        #expect(a.epsilon == 0.8 && a.delta == 0)
        // rows, count, sum of (x - mid), sum of (x - mid)^2: four releases at epsilon 0.2 each.
        #expect(a.releases.count == 4)
        let rows = try #require(a.releases.first { $0.statistic == "rows" })
        #expect(rows.sensitivity == 1 && abs(rows.epsilon - 0.2) < 1e-12 && abs(rows.scale - 5) < 1e-12)
        let s1 = try #require(a.releases.first { $0.statistic == "sum of (x - mid)" })
        #expect(s1.sensitivity == 41, "age range [18, 100]: half-width 41")
        let sd = (deviations.map { $0 * $0 }.reduce(0, +) / Double(deviations.count)).squareRoot()
        let expected = 2.0.squareRoot() * rows.scale
        #expect(abs(sd - expected) < 0.05 * expected, "noise SD \(sd), expected \(expected)")
        #expect(abs(deviations.reduce(0, +) / Double(deviations.count)) < 4 * expected / Double(deviations.count).squareRoot())
    }

    @Test("Gaussian noise on a histogram has the calibrated standard deviation")
    func gaussianHistogram() throws {
        let fed = try Self.synthetic.get()
        let site = fed.sites.max { $0.train.rowCount < $1.train.rowCount }!
        let q = StatisticsQuery(statistics: [.histogram], columns: ["age"], histogram: .init(bins: 4), minimumCellCount: 1,
                                privacy: PrivacyRequest(mechanism: .gaussian, epsilon: 1, delta: 1e-6))
        let plan = try QueryPlanner.plan(q, schema: fed.schema)
        let analytics = SiteAnalytics(site: site.name, policy: SiteAnalyticsPolicy(minimumCellCount: 1))
        var exactNoise = SeededNoiseSource(seed: 0)
        guard case .released(let exact) = SiteAnalytics(site: site.name, policy: SiteAnalyticsPolicy(minimumCellCount: 1))
            .answer(try QueryPlanner.plan(StatisticsQuery(statistics: [.histogram], columns: ["age"], histogram: .init(bins: 4), minimumCellCount: 1), schema: fed.schema),
                    data: site, noise: &exactNoise) else { Issue.record("refused"); return }
        let truth = try #require(exact.groups[0].column("age")?.histogram).map { $0.value ?? 0 }
        var rng = SeededNoiseSource(seed: 4)
        var dev = [Double]()
        var sigma = 0.0
        for _ in 0..<2000 {
            guard case .released(let s) = analytics.answer(plan, data: site, noise: &rng) else { Issue.record("refused"); return }
            let h = try #require(s.groups[0].column("age")?.histogram)
            // Only bins far above k are always released; compare those.
            for (i, c) in h.enumerated() where truth[i] > 100 { dev.append(try #require(c.value) - truth[i]) }
            sigma = try #require(s.privacy?.releases.first { $0.statistic == "histogram" }).scale
        }
        #expect(sigma == NoiseCalibration.gaussianSigma(sensitivity: 1, epsilon: 1.0 / 3, delta: 1e-6 / 3))
        let sd = (dev.map { $0 * $0 }.reduce(0, +) / Double(dev.count)).squareRoot()
        #expect(abs(sd - sigma) < 0.05 * sigma, "noise SD \(sd), sigma \(sigma)")
    }

    @Test("Sites refuse what their policy forbids, with a reason")
    func refusals() async throws {
        let fed = try Self.synthetic.get()
        func refusal(_ q: StatisticsQuery, _ p: SiteAnalyticsPolicy, budget: PrivacyBudget? = nil) throws -> QueryRefusal? {
            let plan = try QueryPlanner.plan(q, schema: fed.schema)
            var rng = SeededNoiseSource(seed: 1)
            if case .refused(_, let r) = SiteAnalytics(site: "x", policy: p).answer(plan, data: fed.sites[0], budget: budget, noise: &rng) { return r }
            return nil
        }
        let base = SiteAnalyticsPolicy(minimumCellCount: 10, maximumEpsilon: 1)
        #expect(try refusal(StatisticsQuery(statistics: [.mean], columns: ["age"]), base) == nil)
        #expect(try refusal(StatisticsQuery(statistics: [.minimum], columns: ["age"], releaseMinMax: true), base)?.code == .statisticNotAllowed)
        var allowAll = base
        allowAll.allowedStatistics = Set(Statistic.all)
        #expect(try refusal(StatisticsQuery(statistics: [.minimum], columns: ["age"], releaseMinMax: true), allowAll)?.code == .minMaxNotAllowed)
        #expect(try refusal(StatisticsQuery(statistics: [.mean], columns: ["age"], minimumCellCount: 3), base)?.code == .cellCountTooSmall)
        let dp = PrivacyRequest(mechanism: .laplace, epsilon: 2)
        #expect(try refusal(StatisticsQuery(statistics: [.mean], columns: ["age"], privacy: dp), base)?.code == .epsilonTooLarge)
        let small = PrivacyRequest(mechanism: .laplace, epsilon: 0.5)
        #expect(try refusal(StatisticsQuery(statistics: [.mean], columns: ["age"], privacy: small), base, budget: PrivacyBudget(ledger: PrivacyLedger(entries: [.init(jobID: "j1", epsilon: 0.6, delta: 0, mechanism: "training")]), maxEpsilon: 1))?.code == .budgetExhausted)
        var strict = base
        strict.requireNoise = true
        let r = try #require(try refusal(StatisticsQuery(statistics: [.mean], columns: ["age"]), strict))
        #expect(r.code == .noiseRequired && r.reason.contains("privacy"))
        // In a federation run, refusing sites are reported and the rest merged.
        let strictPolicy = strict, refusing = fed.sites[2].name
        let result = try await FederatedStatistics.run(StatisticsQuery(statistics: [.mean], columns: ["age"]), federation: fed,
                                                       policy: { $0 == refusing ? strictPolicy : .standard })
        #expect(result.refusals.map(\.site) == [fed.sites[2].name])
        #expect(result.sites.count == fed.sites.count - 1)
    }

    @Test("Each noisy answer is charged to the site's ledger, which refuses the query that would exceed its budget")
    func ledgerCharges() throws {
        let fed = try Self.synthetic.get()
        let q = StatisticsQuery(statistics: [.count, .mean], columns: ["age"], privacy: PrivacyRequest(mechanism: .gaussian, epsilon: 0.4, delta: 1e-6))
        let plan = try QueryPlanner.plan(q, schema: fed.schema)
        let site = SiteAnalytics(site: fed.sites[0].name, policy: .standard)
        var ledger = PrivacyLedger()
        var noise = SeededNoiseSource(seed: 8)
        var answered = 0
        for i in 1...4 {
            let answer = site.answer(plan, data: fed.sites[0], budget: PrivacyBudget(ledger: ledger, maxEpsilon: 1, maxDelta: 1e-5), noise: &noise)
            switch answer {
            case .released(let s):
                // The same plan asked again is a new submission and is charged again.
                let entry = try #require(s.privacy).ledgerEntry(queryID: "query-\(i)")
                #expect(entry.epsilon == 0.4 && entry.delta == 1e-6 && entry.mechanism.contains("Gaussian"))
                try ledger.record(entry)
                answered += 1
            case .refused(_, let r):
                #expect(i >= 3, "the third query would bring epsilon to 1.2 > 1, and so would the fourth")
                #expect(r.code == .budgetExhausted && r.reason.contains("0.8") && r.reason.contains("max_epsilon"), "\(r.reason)")
            }
        }
        #expect(answered == 2)
        #expect(abs(ledger.totalEpsilon - 0.8) < 1e-12 && ledger.entries.map(\.jobID) == ["query-1", "query-2"])
    }

    @Test("Queries validate before anything runs")
    func validation() throws {
        #expect(throws: AnalyticsError.self) { try StatisticsQuery(statistics: [.minimum], columns: ["age"]).validate() }
        #expect(throws: AnalyticsError.self) { try StatisticsQuery(statistics: [.mean], privacy: PrivacyRequest(mechanism: .gaussian, epsilon: 1)).validate() }
        let fed = try Self.synthetic.get()
        #expect(throws: AnalyticsError.self) { try QueryPlanner.plan(StatisticsQuery(statistics: [.mean], columns: ["nope"]), schema: fed.schema) }
        #expect(throws: AnalyticsError.self) { try QueryPlanner.plan(StatisticsQuery(statistics: [.mean], columns: ["patient_id"]), schema: fed.schema) }
        #expect(throws: AnalyticsError.self) { try QueryPlanner.plan(StatisticsQuery(statistics: [.mean], groupBy: "age"), schema: fed.schema) }
    }
}
