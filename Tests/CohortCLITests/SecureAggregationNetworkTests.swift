import CohortRuntime
import CohortTesting
import Foundation
import Testing

@Suite("Secure aggregation over the network (real processes, SecAgg+ with distributed DP)", .serialized)
struct SecureAggregationNetworkTests {
    @Test("SecAgg+ with distributed DP across 4 site processes, one killed mid-round: the job finishes with the exact sum of the others, and the audit states (epsilon, delta)",
          .timeLimit(.minutes(6)))
    func secureAggregationSurvivesAKilledSite() async throws {
        let f = try await LoopbackFederation(sites: 4)
        defer { f.stopAll() }
        // Noise from the job seed so the test can recompute the aggregate; one site insists on secure aggregation.
        try f.setSitePolicy("reproducible_noise", "true")
        try f.setSitePolicy("require_secure_aggregation", "true", sites: [f.sites[0]])
        _ = try await f.startCoordinator()
        var children = [String: Child]()
        for s in f.sites { children[s] = try f.startSite(s) }
        let rounds = 3
        let job = try f.writeJob("secagg", rounds: rounds, minSites: 3, extra: """
            strategy: {name: fedavg}
            privacy: {mode: distributed, noise_multiplier: 0.3, clip: 1.0, delta: 0.00001, secure_aggregation: true}
            """)
        let id = try f.submit(job)
        // Kill the last site once it has started the last round's secure aggregation.
        let victim = f.sites[3]
        try await children[victim]!.waitFor("secure aggregation round \(rounds): sending keys", timeout: 200)
        children[victim]!.kill9()
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(done["status"] as? String == "finished", "job ended as \(done)")
        #expect(done["rounds_completed"] as? Int == rounds)

        let detail = try f.status(id)["rounds_detail"] as? [[String: Any]] ?? []
        let last = try #require(detail.first { $0["round"] as? Int == rounds }, "no record of round \(rounds): \(detail)")
        let participants = Set(last["participants"] as? [String] ?? [])
        let aggregated = Set(last["aggregated"] as? [String] ?? [])
        #expect(participants == Set(f.sites), "all four sites were in the last round: \(last)")
        #expect(aggregated.count >= 3 && aggregated.isSubset(of: participants), "\(last)")
        if !aggregated.contains(victim) {
            let failures = last["failures"] as? [[String: Any]] ?? []
            #expect(failures.contains { $0["site"] as? String == victim }, "the killed site's dropout is recorded: \(last)")
        }
        // The model is the one the same job gives in simulation with the same sites in the sum: the masks cancelled
        // exactly and the killed site's masks were removed.
        var dropped = [Int: Set<String>]()
        for r in detail {
            let round = r["round"] as? Int ?? 0
            dropped[round] = Set(r["participants"] as? [String] ?? []).subtracting(r["aggregated"] as? [String] ?? [])
        }
        let networkModel = try f.download(id)
        let simulated = try await f.simulate(job, dropped: dropped)
        #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) },
                "the network model differs from the simulation with the same dropouts")

        // The coordinator recorded each secure round and the job's (epsilon, delta); no site uploaded an update in
        // the clear, and each sent masked words of the model's size.
        try f.run(["audit", "export", "--state", "coordinator-state", "--out", "audit.jsonl"])
        let audit = try String(contentsOf: f.dir.path("audit.jsonl"), encoding: .utf8)
        #expect(audit.components(separatedBy: "\"event\":\"secagg.completed\"").count - 1 == rounds)
        let finished = try #require(audit.split(separator: "\n").first { $0.contains("\"event\":\"job.finished\"") })
        #expect(finished.contains("epsilon") && finished.contains("delta"), "\(finished)")
        _ = try f.run(["audit", "export", "--state", "state-\(f.sites[1])", "--egress", "--out", "egress.jsonl"])
        let egress = try String(contentsOf: f.dir.path("egress.jsonl"), encoding: .utf8)
        #expect(!egress.contains("\"egress.update\""), "an update left the site in the clear")
        #expect(egress.contains("egress.secagg.maskedInputCollection"))
    }
}
