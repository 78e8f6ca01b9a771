import CohortTesting
import Foundation
import Testing

@Suite("Asynchronous training over the network (real processes)", .serialized)
struct AsyncNetworkTests {
    @Test("FedBuff over the network: sites of different speeds train at their own pace; a site that disconnects and comes back gets work again and its updates count",
          .timeLimit(.minutes(6)))
    func fedBuffWithRejoin() async throws {
        let f = try await LoopbackFederation(sites: 3)
        defer { f.stopAll() }
        _ = try await f.startCoordinator()
        var children = [String: Child]()
        for s in f.sites { children[s] = try f.startSite(s) }
        let versions = 1000  // versions run at about 100 a second here: enough to kill and restart a site mid-job
        let job = try f.writeJob("async", rounds: versions, minSites: 3, extra: """
            async: {mode: fedbuff, buffer: 2, server_learning_rate: 1, max_staleness: 200}
            """)
        let id = try f.submit(job)
        let rejoining = f.sites[1]
        let before = try await f.waitForJob(id) { ($0["rounds_completed"] as? Int ?? 0) >= 5 }
        children[rejoining]!.kill9()
        // The others go on without it; then it comes back (early enough to leave versions for it to contribute to).
        let progress = before["rounds_completed"] as? Int ?? 5
        let killedAt = (try await f.waitForJob(id) { ($0["rounds_completed"] as? Int ?? 0) >= progress + 3 })["rounds_completed"] as? Int ?? 0
        // Freeze the others while it comes back, so the versions wait for it however fast this machine runs them
        // (otherwise the job can end before the restarted site has prepared again).
        let others = f.sites.filter { $0 != rejoining }
        for s in others { children[s]!.pause() }
        try await Task.sleep(for: .milliseconds(500))
        let frozenAt = try f.status(id)["rounds_completed"] as? Int ?? killedAt
        #expect(frozenAt < versions, "the job ended before the site could come back")
        children[rejoining] = try f.startSite(rejoining)
        _ = try await f.waitForJob(id, timeout: 120) { ($0["rounds_completed"] as? Int ?? 0) >= min(versions, frozenAt + 2) }
        for s in others { children[s]!.resume() }
        let done = try await f.waitForJob(id, timeout: 300) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        try #require(done["status"] as? String == "finished", "job ended as \(done["status"] ?? "?"): \(done["message"] ?? "")")
        #expect(done["rounds_completed"] as? Int == versions)

        let detail = try f.status(id)["rounds_detail"] as? [[String: Any]] ?? []
        #expect(detail.count == versions)
        var contributions = [String: Int]()
        var rejoinedVersions = [Int]()
        for r in detail {
            for s in r["aggregated"] as? [String] ?? [] {
                contributions[s, default: 0] += 1
                if s == rejoining, let v = r["round"] as? Int, v > killedAt { rejoinedVersions.append(v) }
            }
        }
        #expect(Set(contributions.keys) == Set(f.sites), "\(contributions)")
        #expect(!rejoinedVersions.isEmpty, "the site that came back contributed nothing after version \(killedAt): \(contributions)")
        // Sites train at their own pace: the smallest (fastest) site contributes more updates than the largest.
        let rows = try f.sites.map { s in
            try String(contentsOf: f.dir.path("data/\(s)_train.csv"), encoding: .utf8).split(separator: "\n").count
        }
        let fastest = f.sites[rows.firstIndex(of: rows.min()!)!], slowest = f.sites[rows.firstIndex(of: rows.max()!)!]
        #expect(contributions[fastest, default: 0] > contributions[slowest, default: 0], "\(contributions), rows \(rows)")
        // The final model is usable and evaluated.
        let model = try f.download(id)
        #expect(model.allSatisfy { $0.isFinite })
    }
}
