import CohortData
import CohortRuntime
import CohortTesting
import Foundation
import Testing

@Suite("Federated statistics over the network (real processes)", .serialized)
struct QueryNetworkTests {
    @Test("cohort query submit: grouped, filtered statistics from 3 site processes equal the pooled computation; a site whose policy forbids statistics refuses, the others answer",
          .timeLimit(.minutes(5)))
    func queryOverNetwork() async throws {
        let f = try await LoopbackFederation(sites: 4)
        defer { f.stopAll() }
        let answering = Array(f.sites.prefix(3))
        try f.setSitePolicy("allowed_tasks", "[train, evaluate, statistics]", sites: answering)
        _ = try await f.startCoordinator()
        for s in f.sites { _ = try f.startSite(s) }
        try await f.waitForSites(f.sites)
        try f.dir.write("query.yaml", """
            statistics: [count, sum, mean, variance, std, missing]
            columns: [age, length_of_stay, creatinine]
            group_by: admission_type
            filter: "age >= 50"
            rows: all
            """)
        let r = try f.run(["query", "submit", "query.yaml", "--schema", "data/schema.yaml", "--kit", f.kit("admin"),
                           "--sites", answering.joined(separator: ","), "--out", "q1"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: f.dir.path("q1/statistics.json")))
        let released = (json as? [String: Any])?["sites"] as? [[String: Any]] ?? []
        #expect(Set(released.compactMap { $0["site"] as? String }) == Set(answering))
        let groups = try #require(((json as? [String: Any])?["federation"] as? [String: Any])?["groups"] as? [[String: Any]])

        // The pooled computation over the same files.
        let federation = try FederationLoader.directory(f.dir.path("data"), options: .init(schemaURL: f.dir.path("data/schema.yaml")))
        let levels = try #require(federation.schema.column(named: "admission_type")).levels
        var pooled = [String: [String: [Double]]]()  // group -> column -> values
        for site in federation.sites where answering.contains(site.name) {
            for table in [site.train, site.test] {
                guard case .numeric(let age)? = table.values(of: "age"), case .categorical(let type)? = table.values(of: "admission_type") else { continue }
                for i in 0..<table.rowCount where age[i] >= 50 {
                    let key = type[i] < 0 ? "(missing)" : levels[Int(type[i])]
                    for column in ["age", "length_of_stay", "creatinine"] {
                        guard case .numeric(let v)? = table.values(of: column), !v[i].isNaN else { continue }
                        pooled[key, default: [:]][column, default: []].append(v[i])
                    }
                }
            }
        }
        var compared = 0
        for group in groups {
            let key = try #require(group["key"] as? String)
            guard let columns = group["columns"] as? [[String: Any]], let truthByColumn = pooled[key] else { continue }
            for c in columns {
                let name = try #require(c["column"] as? String)
                let values = try #require(truthByColumn[name])
                let n = Double(values.count)
                let sum = values.reduce(0, +), mean = sum / n
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
                #expect(c["count"] as? Double == n, "\(key)/\(name) count")
                for (stat, truth) in [("sum", sum), ("mean", mean), ("variance", variance), ("standardDeviation", variance.squareRoot())] {
                    let v = try #require(c[stat] as? Double, "\(key)/\(name) \(stat) missing: \(c)")
                    #expect(abs(v - truth) <= 1e-9 * abs(truth), "\(key)/\(name) \(stat): \(v) vs pooled \(truth)")
                    compared += 1
                }
            }
        }
        #expect(compared >= 36, "compared \(compared) values")

        // To every site: the fourth site's policy does not allow statistics, so it refuses and says why.
        let all = try f.run(["query", "submit", "query.yaml", "--schema", "data/schema.yaml", "--kit", f.kit("admin"), "--out", "q2"])
        #expect(all.status == 0, "\(all.stderr)")
        let json2 = try JSONSerialization.jsonObject(with: Data(contentsOf: f.dir.path("q2/statistics.json"))) as? [String: Any]
        let refusals = json2?["refusals"] as? [[String: Any]] ?? []
        #expect(refusals.map { $0["site"] as? String } == [f.sites[3]], "\(refusals)")
        #expect("\(refusals)".contains("allowed_tasks"))
        #expect((json2?["sites"] as? [[String: Any]])?.count == 3)

        // The coordinator audited the query; the refusing site logged its refusal, the answering ones their releases.
        try f.run(["audit", "export", "--state", "coordinator-state", "--out", "audit.jsonl"])
        let audit = try String(contentsOf: f.dir.path("audit.jsonl"), encoding: .utf8)
        #expect(audit.components(separatedBy: "\"event\":\"query.completed\"").count - 1 == 2)
        try f.run(["audit", "export", "--state", "state-\(f.sites[3])", "--egress", "--out", "egress4.jsonl"])
        #expect(try String(contentsOf: f.dir.path("egress4.jsonl"), encoding: .utf8).contains("query.refused"))
        try f.run(["audit", "export", "--state", "state-\(f.sites[0])", "--egress", "--out", "egress1.jsonl"])
        #expect(try String(contentsOf: f.dir.path("egress1.jsonl"), encoding: .utf8).contains("egress.statistics"))
    }

    @Test("standardize: global over the network takes the means and deviations from federated statistics and gives the simulation's model bit for bit; without statistics allowed the job fails saying why",
          .timeLimit(.minutes(5)))
    func globalStandardization() async throws {
        let f = try await LoopbackFederation(sites: 3)
        defer { f.stopAll() }
        try f.setSitePolicy("allowed_tasks", "[train, evaluate, statistics]")
        _ = try await f.startCoordinator()
        for s in f.sites { _ = try f.startSite(s) }
        let job = try f.writeJob("global", rounds: 2, extra: "standardize: global")
        let id = try f.submit(job)
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        try #require(done["status"] as? String == "finished", "job ended as \(done)")
        let networkModel = try f.download(id)
        let simulated = try await f.simulate(job)
        #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) })
        // The downloaded model card records the federation's statistics the inputs are standardised with.
        let federation = try FederationLoader.directory(f.dir.path("data"), options: .init(schemaURL: f.dir.path("data/schema.yaml"),
                                                                                            testFraction: 0.25, seed: 11))
        let global = try await Simulation.globalStatistics(federation)
        let card = try JSONSerialization.jsonObject(with: Data(contentsOf: f.dir.path("download-\(id)/model.card.json"))) as? [String: Any]
        let features = card?["features"] as? [[String: Any]] ?? []
        let age = try #require(features.first { $0["column"] as? String == "age" }, "the card lists no age feature: \(features.prefix(2))")
        let truth = try #require(global.columns.first { $0.name == "age" })
        #expect(age["mean"] as? Double == truth.mean, "card mean \(age["mean"] ?? "none"), federation \(truth.mean)")
        #expect((age["std"] as? Double).map { $0 > 0 } == true)
        // The per-site encoding gives another model: the global statistics were used.
        let perSite = try f.writeJob("persite", rounds: 2)
        #expect(try await f.simulate(perSite) != simulated)
        try f.run(["audit", "export", "--state", "coordinator-state", "--out", "audit.jsonl"])
        #expect(try String(contentsOf: f.dir.path("audit.jsonl"), encoding: .utf8).contains("\"event\":\"job.standardization\""))

        // A site that does not allow statistics: the job fails before training and names the site and the fix.
        try f.setSitePolicy("allowed_tasks", "[train, evaluate]", sites: [f.sites[2]])
        f.stopAll()
        _ = try await f.startCoordinator(state: "coordinator-state-2")
        for s in f.sites { _ = try f.startSite(s) }
        let refused = try f.submit(try f.writeJob("global2", rounds: 1, extra: "standardize: global"))
        let failed = try await f.waitForJob(refused) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(failed["status"] as? String == "failed")
        let message = failed["message"] as? String ?? ""
        #expect(message.contains(f.sites[2]) && message.contains("statistics"), "\(message)")
    }
}
