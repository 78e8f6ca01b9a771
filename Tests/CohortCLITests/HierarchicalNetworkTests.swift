import CohortTesting
import Foundation
import Testing

@Suite("Hierarchical aggregation over the network (coordinator, two regional aggregators, four site processes)", .serialized)
struct HierarchicalNetworkTests {
    @Test("Two regions of two sites give the flat FedAvg model byte for byte; the coordinator sees only regional sums; a job a region cannot pass on is refused with the reason",
          .timeLimit(.minutes(6)))
    func twoTierEqualsFlat() async throws {
        let f = try await LoopbackFederation(sites: 4, regions: 2)
        defer { f.stopAll() }
        #expect(f.regions == ["region-1": ["hospital-01", "hospital-03"], "region-2": ["hospital-02", "hospital-04"]])
        // A regional site's kit dials its aggregator, not the coordinator.
        let siteYAML = try String(contentsOf: f.dir.path("\(f.kit("hospital-01"))/site.yaml"), encoding: .utf8)
        #expect(!siteYAML.contains("port: \(f.port)"), "hospital-01 should dial region-1, not the coordinator: \(siteYAML)")

        _ = try await f.startCoordinator()
        for region in f.regions.keys.sorted() { _ = try await f.startAggregator(region) }
        for s in f.sites { _ = try f.startSite(s) }
        try await f.waitForSites(["region-1", "region-2"])

        let rounds = 3
        let job = try f.writeJob("tiers", rounds: rounds, minSites: 2, sites: ["region-1", "region-2"], extra: "strategy: {name: fedavgm, server_learning_rate: 1.0, momentum: 0.5}")
        let id = try f.submit(job)
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(done["status"] as? String == "finished", "job ended as \(done)")
        #expect(done["rounds_completed"] as? Int == rounds)

        // The same job as a flat simulation over the four sites: the two-tier model must equal it bit for bit.
        let networkModel = try f.download(id)
        let flat = try await f.simulate(job)
        #expect(networkModel.count == flat.count)
        #expect(networkModel.withUnsafeBytes { Array($0) } == flat.withUnsafeBytes { Array($0) },
                "the two-tier model differs from flat FedAvg over the same sites")

        // Every round aggregated both regions, each as one exact sum of its two sites; no site's own update reached
        // the coordinator.
        let detail = try f.status(id)["rounds_detail"] as? [[String: Any]] ?? []
        #expect(detail.count == rounds)
        for r in detail { #expect(Set(r["aggregated"] as? [String] ?? []) == ["region-1", "region-2"], "\(r)") }
        try f.run(["audit", "export", "--state", "coordinator-state", "--out", "audit.jsonl"])
        let audit = try String(contentsOf: f.dir.path("audit.jsonl"), encoding: .utf8).split(separator: "\n")
        let received = audit.filter { $0.contains("\"event\":\"update.received\"") }
        #expect(received.count == 2 * rounds)
        #expect(received.allSatisfy { $0.contains("partial_sum_of\\\":2") }, "\(received)")
        #expect(!received.contains { $0.contains("hospital-") }, "a site's update reached the coordinator directly")
        // Each aggregator audited its rounds, with its own sites.
        try f.run(["audit", "export", "--state", "state-region-1/region", "--out", "region-1.jsonl"])
        let regional = try String(contentsOf: f.dir.path("region-1.jsonl"), encoding: .utf8).split(separator: "\n")
        let regionRounds = regional.filter { $0.contains("\"event\":\"region.round\"") }
        #expect(regionRounds.count == rounds)
        #expect(regionRounds.allSatisfy { $0.contains("hospital-01") && $0.contains("hospital-03") && !$0.contains("hospital-02") })
        // What left the aggregator is in its egress log: one partial sum per round.
        try f.run(["audit", "export", "--state", "state-region-1/upstream", "--egress", "--out", "region-1-egress.jsonl"])
        let egress = try String(contentsOf: f.dir.path("region-1-egress.jsonl"), encoding: .utf8)
        #expect(egress.components(separatedBy: "exact-partial-sum").count - 1 == rounds)

        // A robust rule needs each site's own update: the regions refuse the job, saying why, before any training.
        let robust = try f.writeJob("robust", rounds: 1, minSites: 2, sites: ["region-1", "region-2"], extra: "strategy: {name: median}")
        let rid = try f.submit(robust)
        let refused = try await f.waitForJob(rid) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(refused["status"] as? String == "failed")
        let message = refused["message"] as? String ?? ""
        #expect(message.contains("region-1") && message.contains("needs each site's own update"), "\(message)")
    }

    @Test("A site killed mid-job: its region withholds its sum (fewer than min_sites), the job goes on with the other region, and the model equals flat FedAvg with that region's sites dropped",
          .timeLimit(.minutes(6)))
    func regionWithholdsBelowMinimum() async throws {
        let f = try await LoopbackFederation(sites: 4, regions: 2)
        defer { f.stopAll() }
        _ = try await f.startCoordinator()
        for region in f.regions.keys.sorted() { _ = try await f.startAggregator(region) }
        var sites = [String: Child]()
        for s in f.sites { sites[s] = try f.startSite(s) }
        try await f.waitForSites(["region-1", "region-2"])
        let rounds = 40
        let job = try f.writeJob("withhold", rounds: rounds, minSites: 1, sites: ["region-1", "region-2"])
        let id = try f.submit(job)
        _ = try await f.waitForJob(id) { ($0["rounds_completed"] as? Int ?? 0) >= 2 }
        sites["hospital-03"]!.kill9()
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(done["status"] as? String == "finished", "job ended as \(done)")

        // Rounds after the kill aggregated region-2 alone; region-1 is recorded as failing, with the reason.
        let detail = try f.status(id)["rounds_detail"] as? [[String: Any]] ?? []
        var dropped = [Int: Set<String>]()
        var withheld = 0
        for r in detail {
            let aggregated = Set(r["aggregated"] as? [String] ?? [])
            #expect(aggregated.contains("region-2"), "\(r)")
            if !aggregated.contains("region-1") {
                withheld += 1
                dropped[r["round"] as? Int ?? 0] = Set(f.regions["region-1"]!)
                let failures = r["failures"] as? [[String: Any]] ?? []
                #expect(failures.contains { ($0["site"] as? String) == "region-1" && ($0["message"] as? String ?? "").contains("min_sites") }, "\(r)")
            }
        }
        #expect(withheld > 0 && withheld < rounds, "region-1 withheld \(withheld) of \(rounds) rounds")
        // The region never passed up hospital-01's update alone.
        try f.run(["audit", "export", "--state", "state-region-1/region", "--out", "region-1.jsonl"])
        let regional = try String(contentsOf: f.dir.path("region-1.jsonl"), encoding: .utf8)
        #expect(regional.components(separatedBy: "\"event\":\"region.round.withheld\"").count - 1 == withheld)
        let networkModel = try f.download(id)
        let simulated = try await f.simulate(job, dropped: dropped)
        #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) },
                "the two-tier model differs from flat FedAvg with region-1's sites dropped in the rounds it withheld")
    }
}
