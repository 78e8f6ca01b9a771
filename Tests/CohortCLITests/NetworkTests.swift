import CohortTesting
import Foundation
import Testing

@Suite("Federation over the network (real processes, gRPC with mutual TLS on 127.0.0.1)", .serialized)
struct NetworkTests {
    @Test("a 3-site job gives the same model, byte for byte, as the in-process simulation", .timeLimit(.minutes(5)))
    func matchesSimulation() async throws {
        let f = try await LoopbackFederation()
        defer { f.stopAll() }
        _ = try await f.startCoordinator()
        for s in f.sites { _ = try f.startSite(s) }
        let job = try f.writeJob("e2e", rounds: 3)
        let id = try f.submit(job)
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(done["status"] as? String == "finished", "job ended as \(done)")
        #expect(done["rounds_completed"] as? Int == 3)
        let networkModel = try f.download(id)
        let simulated = try await f.simulate(job)
        #expect(networkModel.count == simulated.count)
        #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) })
        // Every site kept an egress log of what it sent, and it verifies.
        for s in f.sites {
            let v = try f.run(["audit", "verify", "--state", "state-\(s)", "--egress"])
            #expect(v.stdout.hasPrefix("ok:"))
        }
    }

    @Test("compressed updates, FedProx, SCAFFOLD, FedYogi and site selection over the network give the simulation's model bit for bit",
          .timeLimit(.minutes(6)))
    func variantsMatchSimulation() async throws {
        let f = try await LoopbackFederation()
        defer { f.stopAll() }
        _ = try await f.startCoordinator()
        for s in f.sites { _ = try f.startSite(s) }
        let jobs = [
            try f.writeJob("topk", rounds: 3, minSites: 2, extra: "fraction: 0.5\nselection: availability\ncompression: topk:0.05+q8+deflate\nstrategy: {name: fedprox, mu: 0.1}"),
            try f.writeJob("scaffold", rounds: 3, extra: "compression: q4\nstrategy: {name: scaffold}"),
            try f.writeJob("yogi", rounds: 3, minSites: 2, extra: "fraction: 0.5\nselection: weighted\nstrategy: {name: fedyogi, server_learning_rate: 0.05}"),
        ]
        for job in jobs {
            let id = try f.submit(job)
            let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
            #expect(done["status"] as? String == "finished", "\(job) ended as \(done)")
            let networkModel = try f.download(id)
            let simulated = try await f.simulate(job)
            #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) }, "\(job): the network model differs from the simulation")
        }
        // The egress log records each upload's encoding and size: the compressed job's are a small fraction of dense
        // Float32 (an MLP with 16 hidden units on this schema has a few hundred parameters).
        _ = try f.run(["audit", "export", "--state", "state-\(f.sites[0])", "--egress", "--out", "egress.jsonl"])
        let lines = try String(contentsOf: f.dir.path("egress.jsonl"), encoding: .utf8).split(separator: "\n")
        func uploads(_ encoding: String) -> [Int] {
            lines.compactMap { line -> Int? in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      o["event"] as? String == "egress.update",
                      let payload = try? JSONSerialization.jsonObject(with: Data((o["payload"] as? String ?? "").utf8)) as? [String: Any],
                      payload["encoding"] as? String == encoding else { return nil }
                return payload["bytes"] as? Int
            }
        }
        let sparse = uploads("topk:0.05+q8+deflate"), dense = uploads("dense")
        #expect(!sparse.isEmpty && !dense.isEmpty)
        #expect((sparse.max() ?? .max) * 8 < (dense.min() ?? 0), "top-k uploads \(sparse), dense uploads \(dense)")
    }

    @Test("the coordinator killed with SIGKILL mid-job resumes and produces the same model", .timeLimit(.minutes(6)))
    func survivesKill() async throws {
        let f = try await LoopbackFederation()
        defer { f.stopAll() }
        let first = try await f.startCoordinator(state: "cstate")
        for s in f.sites { _ = try f.startSite(s) }
        let rounds = 40
        let job = try f.writeJob("crash", rounds: rounds)
        let id = try f.submit(job)
        let before = try await f.waitForJob(id) { ($0["rounds_completed"] as? Int ?? 0) >= 3 }
        first.kill9()
        // The kill landed mid-job: the job was running with rounds still to go.
        #expect(before["status"] as? String == "running")
        #expect((before["rounds_completed"] as? Int ?? rounds) < rounds)
        _ = try await f.startCoordinator(state: "cstate")
        let done = try await f.waitForJob(id) { ["finished", "failed", "cancelled"].contains($0["status"] as? String ?? "") }
        #expect(done["status"] as? String == "finished", "job ended as \(done)")
        #expect(done["rounds_completed"] as? Int == rounds)
        // The restarted coordinator resumed the job instead of starting it again.
        try f.run(["audit", "export", "--state", "cstate", "--out", "audit.jsonl"])
        let audit = try String(contentsOf: f.dir.path("audit.jsonl"), encoding: .utf8)
        #expect(audit.contains("\"event\":\"job.resumed\""))
        let completions = audit.split(separator: "\n").filter { $0.contains("\"event\":\"round.completed\"") }
        #expect(completions.count == rounds, "each round is committed exactly once")
        let networkModel = try f.download(id)
        let simulated = try await f.simulate(job)
        #expect(networkModel.withUnsafeBytes { Array($0) } == simulated.withUnsafeBytes { Array($0) })
        let verify = try f.run(["audit", "verify", "--state", "cstate"])
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("ok:"))
    }

    @Test("cohort doctor passes every check against a running coordinator, and names the fix when it is down", .timeLimit(.minutes(2)))
    func doctor() async throws {
        let f = try await LoopbackFederation(sites: 1)
        defer { f.stopAll() }
        let down = try CohortBinary.run(["doctor", "--kit", f.kit("hospital-01"), "--data", "data"], in: f.dir.url)
        #expect(down.status != 0)
        #expect(down.stdout.contains("PASS kit"))
        #expect(down.stdout.contains("PASS certificate"))
        #expect(down.stdout.contains("FAIL tcp"))
        #expect(down.stdout.contains("fix: check the coordinator is running"))
        _ = try await f.startCoordinator()
        let up = try CohortBinary.run(["doctor", "--kit", f.kit("hospital-01"), "--data", "data"], in: f.dir.url)
        #expect(up.status == 0, "\(up.stdout)")
        for check in ["kit", "certificate", "name resolution", "tcp", "tls handshake", "protocol", "data"] {
            #expect(up.stdout.contains("PASS \(check)"), "missing PASS \(check): \(up.stdout)")
        }
        // A broken data file is reported with its location.
        try f.dir.write("baddata/schema.yaml", try String(contentsOf: f.dir.path("data/schema.yaml"), encoding: .utf8))
        try f.dir.write("baddata/train.csv", "patient_id,age\n1,40\n")
        let bad = try CohortBinary.run(["doctor", "--kit", f.kit("hospital-01"), "--data", "baddata"], in: f.dir.url)
        #expect(bad.status != 0)
        #expect(bad.stdout.contains("FAIL data"))
        #expect(bad.stdout.contains("train.csv"))
    }
}

