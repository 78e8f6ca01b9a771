import CohortTesting
import Foundation
import Testing

@testable import CohortPKI

@Suite("Revocation")
struct RevocationListTests {
    @Test("revoke writes a CA-signed list that revokes only that participant")
    func revokeOne() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let ws = fixture.workspace
        let ca = try fixture.authority()
        let returned = try Provisioner().revoke(workspace: ws.url, name: "hospital-02", reason: "laptop stolen",
                                                now: fixedNow.addingTimeInterval(10.75))
        let list = try RevocationList.load(from: ws.revocationsFile, caCertificate: ca.certificate)
        #expect(list == returned)
        #expect(list.sequence == 1)
        #expect(list.project == "hospital-net")
        #expect(list.entries.map(\.name) == ["hospital-02"])
        #expect(list.entries.first?.reason == "laptop stolen")

        let records = fixture.report.participants
        for record in records {
            #expect(list.isRevoked(serial: record.serialHex) == (record.name == "hospital-02"))
            #expect(list.isRevoked(fingerprint: record.fingerprint.uppercased()) == (record.name == "hospital-02"))
        }
        let registry = try ParticipantRegistry.load(from: ws.participantsFile)
        #expect(registry.participants.filter(\.revoked).map(\.name) == ["hospital-02"])
        #expect(registry.participant(named: "hospital-02")?.revocationReason == "laptop stolen")

        // The identity check refuses the revoked site and accepts the others.
        let verifier = IdentityVerifier(caCertificate: ca.certificate)
        let revoked = try verifier.identity(of: Kit.load(from: fixture.kit("hospital-02")).certificate, now: fixedNow)
        let error = expectPKIError(.revoked) { try verifier.check(revoked, against: list) }
        #expect(error?.message.contains("laptop stolen") == true)
        let fine = try verifier.identity(of: Kit.load(from: fixture.kit("hospital-01")).certificate, now: fixedNow)
        try verifier.check(fine, against: list)
        try verifier.check(revoked, against: nil)
    }

    @Test("A second revocation increments the sequence and keeps earlier entries")
    func sequenceIncrements() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let url = fixture.workspace.url
        _ = try Provisioner().revoke(workspace: url, name: "hospital-01", reason: "left", now: fixedNow)
        let second = try Provisioner().revoke(workspace: url, name: "alice", reason: "", now: fixedNow)
        #expect(second.sequence == 2)
        #expect(second.entries.map(\.name) == ["hospital-01", "alice"])
        #expect(second.entries.last?.reason == "unspecified")
        try second.verify(caCertificate: fixture.authority().certificate)
        expectPKIError(.alreadyRevoked) {
            try Provisioner().revoke(workspace: url, name: "hospital-01", reason: "again", now: fixedNow)
        }
        expectPKIError(.unknownParticipant) {
            try Provisioner().revoke(workspace: url, name: "nobody", reason: "x", now: fixedNow)
        }
    }

    @Test("Tampered lists and lists signed by another CA fail verification")
    func tamperingDetected() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let ca = try fixture.authority()
        let list = try Provisioner().revoke(workspace: fixture.workspace.url, name: "hospital-03", reason: "r",
                                            now: fixedNow)
        try list.verify(caCertificate: ca.certificate)

        var emptied = list
        emptied.entries = []
        expectPKIError(.invalidRevocationList) { try emptied.verify(caCertificate: ca.certificate) }
        var reasoned = list
        reasoned.entries[0].reason = "other"
        expectPKIError(.invalidRevocationList) { try reasoned.verify(caCertificate: ca.certificate) }
        var resequenced = list
        resequenced.sequence = 99
        expectPKIError(.invalidRevocationList) { try resequenced.verify(caCertificate: ca.certificate) }
        var garbled = list
        garbled.signature = "not base64!"
        expectPKIError(.invalidRevocationList) { try garbled.verify(caCertificate: ca.certificate) }

        let foreign = try TestCertificates.makeCA(name: "hospital-net")
        let forged = try RevocationList.signed(project: "hospital-net", sequence: 5, issuedAt: fixedNow,
                                               entries: [], by: foreign)
        try forged.verify(caCertificate: foreign.certificate)
        expectPKIError(.invalidRevocationList) { try forged.verify(caCertificate: ca.certificate) }

        // A tampered file on disk is refused when loading, and revoke will not build on it.
        let file = fixture.workspace.revocationsFile
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "hospital-03", with: "hospital-01")
        try Data(text.utf8).write(to: file)
        expectPKIError(.invalidRevocationList) { try RevocationList.load(from: file, caCertificate: ca.certificate) }
        expectPKIError(.invalidRevocationList) {
            try Provisioner().revoke(workspace: fixture.workspace.url, name: "alice", reason: "x", now: fixedNow)
        }
    }

    @Test("A coordinator kit loads a copied revocation list and rejects a forged one")
    func kitLoadsRevocations() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let kit = try Kit.load(from: fixture.kit("coordinator"))
        #expect(try kit.loadRevocations() == nil)
        let list = try Provisioner().revoke(workspace: fixture.workspace.url, name: "hospital-01", reason: "r")
        try FileManager.default.copyItem(at: fixture.workspace.revocationsFile, to: kit.revocationsFile)
        #expect(try kit.loadRevocations() == list)

        let forged = try RevocationList.signed(project: "hospital-net", sequence: 9, issuedAt: fixedNow, entries: [],
                                               by: TestCertificates.makeCA(name: "hospital-net"))
        try forged.jsonData().write(to: kit.revocationsFile)
        expectPKIError(.invalidRevocationList) { try kit.loadRevocations() }
    }
}
