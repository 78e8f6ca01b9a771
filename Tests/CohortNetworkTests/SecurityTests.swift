import CohortCoordinator
import CohortPKI
import CohortStore
import CohortTesting
import CohortWire
import Foundation
import GRPCCore
import Testing

@Suite("Coordinator security: certificates, identities, roles, versions", .serialized)
struct SecurityTests {
    static func hello(_ f: TestFederation, kit: URL, claiming name: String, protocol version: UInt32 = WireProtocol.version) async throws -> Cohort_V1_HelloResponse {
        try await f.withClient(kit: kit) { client in
            var h = Cohort_V1_HelloRequest()
            h.versions = WireProtocol.versions(software: "test")
            h.versions.protocol = version
            h.versions.minProtocol = min(version, WireProtocol.minimumVersion)
            if version > WireProtocol.version { h.versions.minProtocol = version }
            h.site = name
            return try await Cohort_V1_Federation.Client(wrapping: client).hello(h)
        }
    }

    @Test("a valid site is welcomed; a foreign CA, an expired certificate and a revoked one are refused; others stay unaffected",
          .timeLimit(.minutes(2)))
    func certificates() async throws {
        let f = try await TestFederation(sites: ["hospital-01", "hospital-02"])
        try await f.startCoordinator()
        let ok = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-01")
        #expect(ok.coordinator == "coordinator")
        #expect(ok.versions.protocol == WireProtocol.version)

        // Foreign CA: same project name, different key. TLS refuses it before any RPC runs.
        let foreignCA = try TestCertificates.makeCA(name: "net-test")
        let foreign = try f.tamperedKit(from: "hospital-01", as: "foreign", certificate:
            TestCertificates.issue(name: "hospital-01", role: .site, ca: foreignCA))
        await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: foreign, claiming: "hospital-01") }

        // Expired, issued by the project CA.
        let ca = try TestCertificates.loadCA(workspace: f.workspace)
        let expired = try f.tamperedKit(from: "hospital-02", as: "expired", certificate:
            TestCertificates.issue(name: "hospital-02", role: .site, ca: ca, project: "net-test",
                                   notBefore: Date().addingTimeInterval(-7200), notAfter: Date().addingTimeInterval(-3600)))
        await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: expired, claiming: "hospital-02") }

        // The valid site still works.
        _ = try await Self.hello(f, kit: f.kit("hospital-02"), claiming: "hospital-02")

        // Revoke hospital-02 through the admin API: refused from now on, without a restart.
        let list = try Provisioner().revoke(workspace: f.workspace, name: "hospital-02", reason: "test")
        let revoked = try await f.admin { admin in
            var r = Cohort_V1_RevokeRequest()
            r.protocol = WireProtocol.version
            r.revocationListJson = try list.jsonData()
            return try await admin.revoke(r)
        }
        #expect(revoked.names == ["hospital-02"])
        let e = await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: f.kit("hospital-02"), claiming: "hospital-02") }
        #expect(e?.code == .permissionDenied)
        #expect(e?.message.contains("revoked") == true)
        _ = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-01")

        // A revocation list not signed by the project CA is refused.
        var forged = list
        forged.sequence += 1
        await #expect(throws: RPCError.self) {
            try await f.admin { admin in
                var r = Cohort_V1_RevokeRequest()
                r.protocol = WireProtocol.version
                r.revocationListJson = try forged.jsonData()
                _ = try await admin.revoke(r)
            }
        }
        await f.stop()
        let events = try f.auditEvents().map(\.event)
        #expect(events.contains("certificate.revoked"))
        #expect(events.contains("connection.refused"))
    }

    @Test("the operator's signed revocations.json copied into the kit is enforced when the server starts; a forged one stops it",
          .timeLimit(.minutes(2)))
    func revocationListInTheKit() async throws {
        let f = try await TestFederation(sites: ["hospital-01", "hospital-02"])
        var list = try Provisioner().revoke(workspace: f.workspace, name: "hospital-02", reason: "laptop stolen")
        let copy = f.kit("coordinator").appendingPathComponent(Kit.revocationsFileName)
        list.sequence += 1  // no longer matches its signature
        try list.jsonData().write(to: copy)
        await #expect(throws: PKIError.self) {
            try await Coordinator(kit: Kit.load(from: f.kit("coordinator")), stateDirectory: f.stateDirectory, logger: TestFederation.logger)
                .run(software: "test")
        }
        try Data(contentsOf: f.workspace.appendingPathComponent("revocations.json")).write(to: copy)
        try await f.startCoordinator()
        let e = await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: f.kit("hospital-02"), claiming: "hospital-02") }
        #expect(e?.code == .permissionDenied)
        #expect(e?.message.contains("revoked") == true)
        _ = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-01")
        await f.stop()
    }

    @Test("a certificate cannot speak for another site, and a site certificate cannot use the admin API", .timeLimit(.minutes(2)))
    func identityAndRoles() async throws {
        let f = try await TestFederation(sites: ["hospital-01", "hospital-02"])
        try await f.startCoordinator()
        let spoof = await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-02") }
        #expect(spoof?.code == .permissionDenied)
        #expect(spoof?.message.contains("hospital-02") == true)
        let submit = await #expect(throws: RPCError.self) {
            try await f.withClient(kit: f.kit("hospital-01")) { client in
                var r = Cohort_V1_SubmitJobRequest()
                r.protocol = WireProtocol.version
                r.job = try testJob(name: "x", sites: ["hospital-01"], minSites: 1)
                _ = try await Cohort_V1_Admin.Client(wrapping: client).submitJob(r)
            }
        }
        #expect(submit?.code == .permissionDenied)
        let cancel = await #expect(throws: RPCError.self) {
            try await f.withClient(kit: f.kit("hospital-01")) { client in
                var r = Cohort_V1_JobRequest()
                r.protocol = WireProtocol.version
                r.jobID = "job-0001"
                _ = try await Cohort_V1_Admin.Client(wrapping: client).cancelJob(r)
            }
        }
        #expect(cancel?.code == .permissionDenied)
        // The admin may.
        let id = try await f.submit(try testJob(name: "ok", sites: ["hospital-01", "hospital-02"], minSites: 2))
        #expect(id == "job-0001")
        await f.stop()
        let audit = try f.auditEvents()
        #expect(audit.contains { $0.event == "message.refused" && $0.actor == "hospital-01" })
        #expect(audit.contains { $0.event == "call.refused" && $0.actor == "hospital-01" })
    }

    @Test("an incompatible protocol version is refused with the versions this side accepts", .timeLimit(.minutes(1)))
    func protocolVersion() async throws {
        let f = try await TestFederation(sites: ["hospital-01"])
        try await f.startCoordinator()
        let e = await #expect(throws: RPCError.self) { _ = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-01", protocol: 99) }
        #expect(e?.code == .failedPrecondition)
        #expect(e?.message.contains("\(WireProtocol.minimumVersion)...\(WireProtocol.version)") == true)
        // The site side applies the same rule to the coordinator's answer.
        #expect(WireProtocol.incompatibility(peerProtocol: 99, peerMinimum: 99) != nil)
        #expect(WireProtocol.incompatibility(peerProtocol: 0, peerMinimum: 0)?.contains("too old") == true)
        #expect(WireProtocol.incompatibility(peerProtocol: WireProtocol.version, peerMinimum: 1) == nil)
        await f.stop()
    }

    @Test("an oversized message is refused with the reason, and the server keeps serving", .timeLimit(.minutes(1)))
    func oversized() async throws {
        let f = try await TestFederation(sites: ["hospital-01"]) { $0.maxMessageBytes = 64 * 1024 }
        try await f.startCoordinator()
        let e = await #expect(throws: RPCError.self) {
            try await f.withClient(kit: f.kit("hospital-01")) { client in
                var r = Cohort_V1_EvaluationReport()
                r.protocol = WireProtocol.version
                r.site = "hospital-01"
                r.summary.histograms = [UInt64](repeating: 12345, count: 100_000)
                _ = try await Cohort_V1_Federation.Client(wrapping: client).submitEvaluation(r)
            }
        }
        #expect(e?.code == .resourceExhausted)
        #expect(e?.message.contains("max_message_bytes") == true)
        _ = try await Self.hello(f, kit: f.kit("hospital-01"), claiming: "hospital-01")
        await f.stop()
    }
}
