import CohortPKI
import CohortStore
import CohortTesting
import CohortWire
import Foundation
import GRPCCore
import Testing

@Suite("Rounds with faulty sites: bad updates, broken uploads, stragglers, policy refusals", .serialized)
struct RoundFaultTests {
    /// Two real sites and one scripted site in a 2-round job that needs 2 sites per round.
    static func run(_ behaviour: FakeSite.Behaviour, timeout: Int = 60) async throws -> (TestFederation, Cohort_V1_JobDetail, FakeSite.Log) {
        let f = try await TestFederation(sites: ["hospital-01", "hospital-02", "rogue"])
        try await f.startCoordinator()
        try f.startSite("hospital-01")
        try f.startSite("hospital-02")
        let log = try await f.withClient(kit: f.kit("rogue")) { client in
            let fake = FakeSite(name: "rogue", behaviour: behaviour, client: Cohort_V1_Federation.Client(wrapping: client))
            return try await withThrowingTaskGroup(of: FakeSite.Log?.self) { group in
                group.addTask {
                    try await fake.run()
                    return nil
                }
                group.addTask {
                    let id = try await f.submit(try testJob(name: "faults", sites: ["hospital-01", "hospital-02", "rogue"], minSites: 2, timeout: timeout))
                    let d = try await f.waitForEnd(id)
                    #expect(d.info.status == "finished", "job ended as \(d.info.status): \(d.info.message)")
                    return fake.log
                }
                let log = try await group.next()!!
                group.cancelAll()
                return log
            }
        }
        let detail = try await f.detail("job-0001")
        await f.stop()
        return (f, detail, log)
    }

    static func check(_ detail: Cohort_V1_JobDetail, rogueCode: String) {
        #expect(detail.rounds.count == 2)
        for r in detail.rounds {
            #expect(r.aggregated == ["hospital-01", "hospital-02"], "round \(r.round) aggregated \(r.aggregated)")
            #expect(r.failures.contains { $0.site == "rogue" && $0.code == rogueCode }, "round \(r.round) failures \(r.failures)")
        }
    }

    @Test("an update with NaN is refused, the site told why, the refusal audited, the round goes on", .timeLimit(.minutes(3)))
    func nan() async throws {
        let (f, detail, log) = try await Self.run(.nanUpdate)
        Self.check(detail, rogueCode: "rejected")
        let receipts = log.snapshot.receipts
        #expect(!receipts.isEmpty && receipts.allSatisfy { !$0.accepted && $0.message.contains("NaN") })
        #expect(try f.auditEvents().contains { $0.event == "update.rejected" && $0.actor == "rogue" })
    }

    @Test("an update of the wrong shape is refused and the round goes on", .timeLimit(.minutes(3)))
    func wrongShape() async throws {
        let (f, detail, log) = try await Self.run(.wrongShape)
        Self.check(detail, rogueCode: "rejected")
        #expect(log.snapshot.receipts.allSatisfy { !$0.accepted && $0.message.contains("values") })
        #expect(try f.auditEvents().contains { $0.event == "update.rejected" && $0.actor == "rogue" })
    }

    @Test("a site certificate sending a regional partial sum is refused (only an aggregator's may), and the round goes on",
          .timeLimit(.minutes(3)))
    func partialSumFromASite() async throws {
        let (f, detail, log) = try await Self.run(.partialSum)
        Self.check(detail, rogueCode: "rejected")
        let receipts = log.snapshot.receipts
        #expect(!receipts.isEmpty && receipts.allSatisfy { !$0.accepted && $0.message.contains("only a regional aggregator") }, "\(receipts)")
        #expect(try f.auditEvents().contains { $0.event == "update.rejected" && $0.actor == "rogue" })
    }

    @Test("a site that disconnects mid-upload: nothing half-received is aggregated, the round goes on", .timeLimit(.minutes(3)))
    func brokenUpload() async throws {
        let (f, detail, _) = try await Self.run(.disconnectMidUpload, timeout: 5)
        // The broken upload never reaches the round: the site is recorded as not answering.
        Self.check(detail, rogueCode: "dropped")
        #expect(try !f.auditEvents().contains { $0.event == "update.received" && $0.actor == "rogue" })
    }

    @Test("a straggler: the round closes at the deadline with the others; its late update is refused and logged", .timeLimit(.minutes(3)))
    func straggler() async throws {
        let (f, detail, log) = try await Self.run(.late(delay: 4), timeout: 2)
        Self.check(detail, rogueCode: "dropped")
        let receipts = log.snapshot.receipts
        #expect(receipts.contains { !$0.accepted && $0.code == "late" }, "receipts: \(receipts)")
        #expect(try f.auditEvents().contains { $0.event == "update.late" && $0.actor == "rogue" })
    }

    @Test("a job that breaks a site's policy is refused by that site, audited on both sides, and the job says why",
          .timeLimit(.minutes(3)))
    func policyRefusal() async throws {
        let f = try await TestFederation(sites: ["hospital-01", "hospital-02"])
        try await f.startCoordinator()
        try f.startSite("hospital-01")
        try f.startSite("hospital-02") { $0.policy.allowedModels = [.logistic] }
        // An MLP job needing both sites cannot run: hospital-02 refuses it.
        let id = try await f.submit(try testJob(name: "mlp", sites: ["hospital-01", "hospital-02"], minSites: 2, model: "mlp"))
        let d = try await f.waitForEnd(id)
        #expect(d.info.status == "failed")
        #expect(d.info.message.contains("hospital-02"))
        #expect(d.info.message.contains("mlp"))
        // A logistic job is accepted by both.
        let ok = try await f.submit(try testJob(name: "logistic", sites: ["hospital-01", "hospital-02"], minSites: 2))
        let done = try await f.waitForEnd(ok)
        #expect(done.info.status == "finished")
        await f.stop()
        #expect(try f.auditEvents().contains { $0.event == "task.refused" && $0.actor == "hospital-02" })
        let egress = try SiteStore(directory: f.dir.path("state-hospital-02")).egress
        #expect(try egress.entries().contains { $0.event == "egress.refusal" })
        #expect(try egress.verify().isValid)
    }
}
