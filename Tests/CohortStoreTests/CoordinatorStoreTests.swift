import CohortStore
import CohortTesting
import Foundation
import GRDB
import Testing

@Suite("CoordinatorStore")
struct CoordinatorStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// A fixture with job `j1` (queued) and a checkpoint per model byte pattern.
    private func fixtureWithJob() throws -> StoreFixture {
        let fixture = try StoreFixture()
        try fixture.store.insertJob(
            JobRow(id: "j1", name: "mortality", specJSON: #"{"rounds":5}"#, submittedBy: "admin", submittedAt: Self.t0),
            auditEvents: [AuditEvent(actor: "admin", event: "job.submitted", payload: ["job": "j1"])]
        )
        return fixture
    }

    private func commit(
        _ store: CoordinatorStore,
        round: Int,
        model: [UInt8],
        metrics: [String: String] = ["site-a": #"{"loss":0.5}"#, "site-b": #"{"loss":0.6}"#],
        audit: [AuditEvent]? = nil
    ) throws -> String {
        let sha = try store.writeCheckpoint(bytes: model)
        try store.commitRound(
            jobID: "j1",
            round: round,
            modelSHA256: sha,
            serverStateJSON: #"{"round":\#(round)}"#,
            recordJSON: #"{"r":\#(round)}"#,
            siteMetrics: metrics,
            auditEvents: audit ?? [
                AuditEvent(
                    actor: "coordinator",
                    event: "round.committed",
                    payload: ["round": .int(Int64(round))],
                    contentHashes: [sha]
                )
            ]
        )
        return sha
    }

    @Test("The state directory is created with a WAL database and a checkpoint directory")
    func layout() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let state = temporary.path("nested/STATE")
        let store = try CoordinatorStore(directory: state)
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("coordinator.sqlite").path))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: store.checkpointDirectory.path, isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
        let mode = try store.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test("Committed rounds, metrics and audit entries survive a restart")
    func commitAndReopen() throws {
        let fixture = try self.fixtureWithJob()
        _ = try self.commit(fixture.store, round: 1, model: [1, 2, 3])
        let sha2 = try self.commit(fixture.store, round: 2, model: [4, 5, 6, 7])

        let store = try fixture.reopen()
        let last = try #require(try store.lastCompletedRound(jobID: "j1"))
        #expect(last.round == 2)
        #expect(last.modelSHA256 == sha2)
        #expect(last.serverStateJSON == #"{"round":2}"#)
        #expect(try store.readCheckpoint(sha256: last.modelSHA256) == [4, 5, 6, 7])
        #expect(try store.job(id: "j1")?.roundsCompleted == 2)
        #expect(try store.rounds(jobID: "j1").map(\.round) == [1, 2])
        #expect(try store.roundMetrics(jobID: "j1", round: 2).map(\.site) == ["site-a", "site-b"])
        #expect(try store.roundMetrics(jobID: "j1").count == 4)
        let audit = try store.audit.verify()
        #expect(audit.isValid)
        #expect(audit.entryCount == 3)
        #expect(try store.audit.entries().map(\.event) == ["job.submitted", "round.committed", "round.committed"])
        #expect(try store.lastCompletedRound(jobID: "other") == nil)
    }

    @Test("A round is never applied twice or out of order")
    func roundOrder() throws {
        let fixture = try self.fixtureWithJob()
        _ = try self.commit(fixture.store, round: 1, model: [1])
        _ = try self.commit(fixture.store, round: 2, model: [2])
        let auditBefore = try fixture.store.audit.head()
        expectStoreError(.roundOutOfOrder) { _ = try self.commit(fixture.store, round: 2, model: [9]) }
        expectStoreError(.roundOutOfOrder) { _ = try self.commit(fixture.store, round: 4, model: [9]) }
        expectStoreError(.roundOutOfOrder) { _ = try self.commit(fixture.store, round: 0, model: [9]) }
        #expect(try fixture.store.lastCompletedRound(jobID: "j1")?.round == 2)
        #expect(try fixture.store.rounds(jobID: "j1").count == 2)
        #expect(try fixture.store.audit.head() == auditBefore)
        _ = try self.commit(fixture.store, round: 3, model: [3])
        #expect(try fixture.store.job(id: "j1")?.roundsCompleted == 3)
    }

    @Test("A round before its predecessor is refused on a fresh job")
    func roundThreeBeforeTwo() throws {
        let fixture = try self.fixtureWithJob()
        _ = try self.commit(fixture.store, round: 1, model: [1])
        expectStoreError(.roundOutOfOrder) { _ = try self.commit(fixture.store, round: 3, model: [3]) }
        #expect(try fixture.store.lastCompletedRound(jobID: "j1")?.round == 1)
    }

    @Test("A failing audit append rolls back the whole round")
    func atomicOnAuditFailure() throws {
        let fixture = try self.fixtureWithJob()
        let auditBefore = try fixture.store.audit.head()
        expectStoreError(.invalidArgument) {
            _ = try self.commit(
                fixture.store,
                round: 1,
                model: [1, 2],
                audit: [
                    AuditEvent(actor: "coordinator", event: "round.committed"),
                    AuditEvent(actor: "coordinator", event: "broken", contentHashes: ["not-a-hash"]),
                ]
            )
        }
        try self.expectNothingCommitted(fixture, auditHead: auditBefore)
        // The same round then commits normally.
        _ = try self.commit(fixture.store, round: 1, model: [1, 2])
        #expect(try fixture.store.lastCompletedRound(jobID: "j1")?.round == 1)
    }

    @Test("A conflicting metrics row rolls back the whole round")
    func atomicOnMetricsConflict() throws {
        let fixture = try self.fixtureWithJob()
        let auditBefore = try fixture.store.audit.head()
        try fixture.tamper { db in
            try db.execute(sql: "INSERT INTO round_metrics VALUES ('j1', 1, 'site-b', '{}')")
        }
        expectStoreError(.database) { _ = try self.commit(fixture.store, round: 1, model: [7]) }
        try self.expectNothingCommitted(fixture, auditHead: auditBefore)
        #expect(try fixture.count("round_metrics") == 1)
    }

    private func expectNothingCommitted(_ fixture: StoreFixture, auditHead: LogAnchor) throws {
        #expect(try fixture.store.lastCompletedRound(jobID: "j1") == nil)
        #expect(try fixture.count("rounds") == 0)
        #expect(try fixture.count("round_metrics", where: "site = 'site-a'") == 0)
        #expect(try fixture.store.job(id: "j1")?.roundsCompleted == 0)
        #expect(try fixture.store.audit.head() == auditHead)
        #expect(try fixture.store.audit.verify().isValid)
    }

    @Test("A round whose checkpoint was not written, or whose file is gone, is refused")
    func checkpointRequired() throws {
        let fixture = try self.fixtureWithJob()
        let unknown = String(repeating: "ab", count: 32)
        expectStoreError(.checkpointMissing) {
            try fixture.store.commitRound(
                jobID: "j1",
                round: 1,
                modelSHA256: unknown,
                serverStateJSON: "{}",
                recordJSON: "{}",
                siteMetrics: [:],
                auditEvents: []
            )
        }
        let sha = try fixture.store.writeCheckpoint(bytes: [1, 2, 3])
        try FileManager.default.removeItem(at: fixture.store.checkpointURL(sha256: sha))
        #expect(try !fixture.store.hasCheckpoint(sha256: sha))
        expectStoreError(.checkpointMissing) {
            try fixture.store.commitRound(
                jobID: "j1",
                round: 1,
                modelSHA256: sha,
                serverStateJSON: "{}",
                recordJSON: "{}",
                siteMetrics: [:],
                auditEvents: []
            )
        }
        expectStoreError(.invalidArgument) {
            try fixture.store.commitRound(
                jobID: "j1",
                round: 1,
                modelSHA256: "xyz",
                serverStateJSON: "{}",
                recordJSON: "{}",
                siteMetrics: [:],
                auditEvents: []
            )
        }
        #expect(try fixture.store.job(id: "j1")?.roundsCompleted == 0)
    }

    @Test("Rounds of unknown or finished jobs are refused")
    func jobMustBeActive() throws {
        let fixture = try self.fixtureWithJob()
        let sha = try fixture.store.writeCheckpoint(bytes: [1])
        expectStoreError(.jobNotFound) {
            try fixture.store.commitRound(
                jobID: "nope",
                round: 1,
                modelSHA256: sha,
                serverStateJSON: "{}",
                recordJSON: "{}",
                siteMetrics: [:],
                auditEvents: []
            )
        }
        try fixture.store.updateJobStatus(id: "j1", status: .cancelled, message: "stopped by admin")
        expectStoreError(.jobNotActive) { _ = try self.commit(fixture.store, round: 1, model: [1]) }
    }

    @Test("Job status changes set start and finish times; terminal states are final")
    func jobLifecycle() throws {
        let fixture = try self.fixtureWithJob()
        let store = fixture.store
        let started = Self.t0.addingTimeInterval(10)
        try store.updateJobStatus(id: "j1", status: .running, time: started)
        var job = try #require(try store.job(id: "j1"))
        #expect(job.status == .running)
        #expect(job.startedAt == started)
        #expect(job.finishedAt == nil)

        let sha = try self.commit(store, round: 1, model: [5])
        let finished = Self.t0.addingTimeInterval(20)
        try store.updateJobStatus(
            id: "j1",
            status: .finished,
            message: "done",
            finalModelSHA256: sha,
            auditEvents: [AuditEvent(actor: "coordinator", event: "job.finished", contentHashes: [sha])],
            time: finished
        )
        job = try #require(try store.job(id: "j1"))
        #expect(job.status == .finished)
        #expect(job.startedAt == started)
        #expect(job.finishedAt == finished)
        #expect(job.message == "done")
        #expect(job.finalModelSHA256 == sha)
        #expect(try store.audit.entries().last?.event == "job.finished")

        expectStoreError(.invalidTransition) { try store.updateJobStatus(id: "j1", status: .running) }
        expectStoreError(.jobNotFound) { try store.updateJobStatus(id: "nope", status: .running) }
        expectStoreError(.invalidArgument) {
            try store.updateJobStatus(id: "j1", status: .failed, finalModelSHA256: "x")
        }
        #expect(try store.job(id: "j1")?.status == .finished)
    }

    @Test("Jobs list in submission order, filtered by status; duplicate ids are refused")
    func jobQueue() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        for (id, offset) in [("c", 30.0), ("a", 10.0), ("b", 20.0)] {
            try store.insertJob(
                JobRow(
                    id: id,
                    name: id,
                    specJSON: "{}",
                    submittedBy: "admin",
                    submittedAt: Self.t0.addingTimeInterval(offset)
                )
            )
        }
        try store.updateJobStatus(id: "b", status: .running)
        #expect(try store.jobs().map(\.id) == ["a", "b", "c"])
        #expect(try store.jobs(status: .queued).map(\.id) == ["a", "c"])
        #expect(try store.jobs(status: .running).map(\.id) == ["b"])
        #expect(try store.job(id: "a")?.submittedAt == Self.t0.addingTimeInterval(10))
        expectStoreError(.invalidArgument) {
            try store.insertJob(JobRow(id: "a", name: "again", specJSON: "{}", submittedBy: "admin"))
        }
        #expect(try store.job(id: "a")?.name == "a")
    }

    @Test("Sites upsert keeps the first-seen time; revocations are recorded once")
    func registry() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        let fingerprint = String(repeating: "cd", count: 32)
        try store.upsertSite(
            SiteRow(
                name: "site-a",
                organization: "Hospital A",
                firstSeen: Self.t0,
                lastSeen: Self.t0,
                certFingerprint: fingerprint
            )
        )
        let later = Self.t0.addingTimeInterval(3600)
        try store.upsertSite(
            SiteRow(
                name: "site-a",
                organization: "Hospital A",
                firstSeen: later,
                lastSeen: later,
                certFingerprint: fingerprint,
                certNotAfter: later.addingTimeInterval(86_400),
                softwareVersion: "0.2.0"
            )
        )
        try store.upsertSite(
            SiteRow(
                name: "site-b",
                organization: "Hospital B",
                firstSeen: later,
                lastSeen: later,
                certFingerprint: fingerprint
            )
        )
        let sites = try store.sites()
        #expect(sites.map(\.name) == ["site-a", "site-b"])
        #expect(sites[0].firstSeen == Self.t0)
        #expect(sites[0].lastSeen == later)
        #expect(sites[0].softwareVersion == "0.2.0")
        #expect(try store.site(name: "site-c") == nil)

        let revocation = RevocationRow(
            fingerprint: fingerprint,
            name: "site-b",
            serial: "0a",
            revokedAt: later,
            reason: "key lost"
        )
        try store.addRevocation(revocation, auditEvents: [AuditEvent(actor: "admin", event: "cert.revoked")])
        try store.addRevocation(RevocationRow(fingerprint: fingerprint, name: "site-b", serial: "0a", reason: "again"))
        #expect(try store.revocations() == [revocation])
        #expect(try store.isRevoked(fingerprint: fingerprint))
        #expect(try !store.isRevoked(fingerprint: String(repeating: "0", count: 64)))
        #expect(try store.audit.entries().map(\.event) == ["cert.revoked"])
    }
}
