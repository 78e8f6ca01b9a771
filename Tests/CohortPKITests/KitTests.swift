import CohortTesting
import Foundation
import Testing

@testable import CohortPKI

@Suite("Kit.load")
struct KitTests {
    @Test("A provisioned kit loads with matching identity, files and PEMs")
    func loads() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let dir = fixture.kit("hospital-01")
        let kit = try Kit.load(from: dir)
        #expect(kit.role == .site)
        #expect(kit.name == "hospital-01")
        #expect(kit.identity.organization == "Hospital One")
        #expect(kit.certificateFile == dir.appendingPathComponent("cert.pem"))
        #expect(kit.privateKeyFile == dir.appendingPathComponent("key.pem"))
        #expect(kit.caFile == dir.appendingPathComponent("ca.pem"))
        #expect(kit.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(kit.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(kit.caPEM == (try String(contentsOf: fixture.workspace.caCertificateFile, encoding: .utf8)))
        #expect(kit.caCertificate == (try fixture.authority().certificate))
        #expect(kit.certificate.matches(privateKey: kit.privateKey))
    }

    @Test("A key readable by others is refused with the chmod fix")
    func keyPermissions() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let key = fixture.kit("hospital-01").appendingPathComponent("key.pem")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key.path)
        let error = expectPKIError(.keyPermissions) { try Kit.load(from: fixture.kit("hospital-01")) }
        #expect(error?.hint == "run `chmod 600 \(key.path)`")
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: key.path)
        #expect(try Kit.load(from: fixture.kit("hospital-01")).name == "hospital-01")
    }

    @Test("A certificate/config role mismatch is detected")
    func roleMismatch() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let dir = fixture.kit("hospital-01")
        // Swap the site config for an admin config with the same name and project.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("site.yaml"))
        let admin = AdminConfig(name: "hospital-01", project: "hospital-net",
                                coordinator: Endpoint(host: "coord.example.org"))
        try Data(admin.yaml().utf8).write(to: dir.appendingPathComponent("admin.yaml"))
        let error = expectPKIError(.roleMismatch) { try Kit.load(from: dir) }
        #expect(error?.message.contains("site") == true)
    }

    @Test("Name and project mismatches are detected")
    func nameAndProjectMismatch() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let file = fixture.kit("hospital-01").appendingPathComponent("site.yaml")
        let original = try SiteConfig.load(from: file)
        var renamed = original
        renamed.name = "hospital-09"
        try Data(renamed.yaml().utf8).write(to: file)
        let nameError = expectPKIError(.nameMismatch) { try Kit.load(from: fixture.kit("hospital-01")) }
        #expect(nameError?.key == "name")
        var moved = original
        moved.project = "other-net"
        try Data(moved.yaml().utf8).write(to: file)
        expectPKIError(.projectMismatch) { try Kit.load(from: fixture.kit("hospital-01")) }
    }

    @Test("A key from another kit, a foreign certificate and missing files are refused")
    func wrongFiles() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let dir = fixture.kit("hospital-01")
        let key = dir.appendingPathComponent("key.pem")
        let ownKey = try Data(contentsOf: key)
        try Data(contentsOf: fixture.kit("hospital-02").appendingPathComponent("key.pem")).write(to: key)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        expectPKIError(.keyMismatch) { try Kit.load(from: dir) }

        let foreign = try TestCertificates.issue(name: "hospital-01", role: .site,
                                                 ca: TestCertificates.makeCA(name: "hospital-net"))
        let certificate = dir.appendingPathComponent("cert.pem")
        let ownCertificate = try Data(contentsOf: certificate)
        try TestCertificates.install(foreign, inKit: dir)
        expectPKIError(.untrustedCertificate) { try Kit.load(from: dir) }
        // Package-level escape hatch for end-to-end tests of rejected peers.
        #expect(try Kit.load(from: dir, checks: []).certificatePEM == foreign.certificatePEM)
        try ownCertificate.write(to: certificate)
        try ownKey.write(to: key)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        #expect(try Kit.load(from: dir).name == "hospital-01")

        try FileManager.default.removeItem(at: dir.appendingPathComponent("ca.pem"))
        expectPKIError(.incompleteKit) { try Kit.load(from: dir) }
        expectPKIError(.incompleteKit) { try Kit.load(from: fixture.directory.path("nowhere")) }
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("ca.pem"))
        expectPKIError(.malformedCertificate) { try Kit.load(from: dir) }
        try Data("name: x\n".utf8).write(to: fixture.kit("hospital-02").appendingPathComponent("admin.yaml"))
        expectPKIError(.incompleteKit) { try Kit.load(from: fixture.kit("hospital-02")) }
    }
}
