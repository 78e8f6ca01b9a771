import CohortTesting
import Foundation
import Testing

@testable import CohortPKI

@Suite("Provisioner.addParticipant")
struct AddParticipantTests {
    @Test("A new site gets a verifiable kit and no other file changes")
    func addsSiteWithoutTouchingOtherKits() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let ws = fixture.workspace
        let kitsBefore = try snapshot(ws.kitsDirectory)
        let caBefore = try snapshot(ws.caDirectory)
        let later = fixedNow.addingTimeInterval(86_400)

        let record = try Provisioner().addParticipant(workspace: ws.url, name: "hospital-04",
                                                      organization: "Hospital Four", now: later)
        #expect(record.name == "hospital-04")
        #expect(record.role == .site)
        #expect(!record.revoked)

        let kitsAfter = try snapshot(ws.kitsDirectory)
        let newFiles = kitsAfter.keys.filter { $0.hasPrefix("/hospital-04/") }
        #expect(newFiles.count == 5)
        #expect(kitsAfter.filter { !$0.key.hasPrefix("/hospital-04/") } == kitsBefore, "other kits changed")
        #expect(try snapshot(ws.caDirectory) == caBefore)
        #expect(try permissions(fixture.kit("hospital-04").appendingPathComponent("key.pem")) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.kitsDirectory.path).count == 6,
                "no staging directory is left behind")

        let kit = try Kit.load(from: fixture.kit("hospital-04"))
        let ca = try fixture.authority()
        let identity = try IdentityVerifier(caCertificate: ca.certificate).identity(of: kit.certificate, now: later)
        #expect(identity.name == "hospital-04")
        #expect(identity.role == .site)
        #expect(identity.organization == "Hospital Four")
        guard case .site(let config) = kit.config else {
            Issue.record("not a site config")
            return
        }
        #expect(config.coordinator == Endpoint(host: "coord.example.org", port: 7443))

        let registry = try ParticipantRegistry.load(from: ws.participantsFile)
        #expect(registry.participants.count == 6)
        #expect(registry.participant(named: "hospital-04") == record)
        let project = try ProjectDefinition.load(from: ws.projectFile)
        #expect(project.sites.map(\.name) == ["hospital-01", "hospital-02", "hospital-03", "hospital-04"])
        #expect(project.sites.last?.organization == "Hospital Four")
        #expect(project.coordinator.addresses == ["127.0.0.1", "::1"])
    }

    @Test("An admin is added to the admins list")
    func addsAdmin() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let record = try Provisioner().addParticipant(workspace: fixture.workspace.url, name: "bob",
                                                      organization: "Research Centre", role: .admin, now: fixedNow)
        #expect(record.role == .admin)
        #expect(try Kit.load(from: fixture.kit("bob")).role == .admin)
        #expect(try ProjectDefinition.load(from: fixture.workspace.projectFile).admins.map(\.name) == ["alice", "bob"])
    }

    @Test("Duplicate names, a second coordinator and bad names are refused without changes")
    func refusals() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let before = try snapshot(fixture.workspace.url)
        let url = fixture.workspace.url
        expectPKIError(.duplicateParticipant) {
            try Provisioner().addParticipant(workspace: url, name: "hospital-01", organization: "X", now: fixedNow)
        }
        expectPKIError(.duplicateParticipant) {
            try Provisioner().addParticipant(workspace: url, name: "HOSPITAL-02", organization: "X", now: fixedNow)
        }
        expectPKIError(.duplicateParticipant) {
            try Provisioner().addParticipant(workspace: url, name: "alice", organization: "X", now: fixedNow)
        }
        expectPKIError(.notAllowed) {
            try Provisioner().addParticipant(workspace: url, name: "coord2", organization: "X", role: .coordinator)
        }
        expectPKIError(.invalidProject) {
            try Provisioner().addParticipant(workspace: url, name: "../evil", organization: "X", now: fixedNow)
        }
        #expect(try snapshot(url) == before)
    }

    @Test("A directory that was never provisioned is refused")
    func requiresWorkspace() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let error = expectPKIError(.notAWorkspace) {
            try Provisioner().addParticipant(workspace: dir.url, name: "x", organization: "X")
        }
        #expect(error?.hint?.contains("cohort provision") == true)
    }
}
