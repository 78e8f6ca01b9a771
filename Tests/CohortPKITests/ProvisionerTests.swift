import CohortTesting
import Foundation
import SwiftASN1
import Testing
import X509

@testable import CohortPKI

@Suite("Provisioner")
struct ProvisionerTests {
    @Test("Every kit has its files, 0600 keys and a verifiable certificate")
    func kitsAreComplete() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let names = ["coordinator", "hospital-01", "hospital-02", "hospital-03", "alice"]
        #expect(fixture.report.participants.map(\.name) == names)
        #expect(fixture.report.project == "hospital-net")

        let ws = fixture.workspace
        #expect(try permissions(ws.caKeyFile) == 0o600)
        #expect(try String(contentsOf: ws.projectFile, encoding: .utf8) == sampleProjectYAML)
        for record in fixture.report.participants {
            let kit = fixture.kit(record.name)
            for file in ["cert.pem", "key.pem", "ca.pem", record.role.configFileName, "README.md"] {
                #expect(FileManager.default.fileExists(atPath: kit.appendingPathComponent(file).path),
                        "\(record.name) lacks \(file)")
            }
            #expect(try permissions(kit.appendingPathComponent("key.pem")) == 0o600)
            let readme = try String(contentsOf: kit.appendingPathComponent("README.md"), encoding: .utf8)
            #expect(readme.contains("cohort doctor --kit DIR"))
            #expect(readme.contains(fixture.report.caFingerprint))
            let loaded = try Kit.load(from: kit)
            #expect(loaded.name == record.name)
            #expect(loaded.role == record.role)
            #expect(try loaded.certificate.sha256Fingerprint() == record.fingerprint)
        }
        #expect(try String(contentsOf: fixture.kit("coordinator").appendingPathComponent("README.md"), encoding: .utf8)
            .contains("cohort coordinator --kit DIR"))
        #expect(try String(contentsOf: fixture.kit("hospital-01").appendingPathComponent("README.md"), encoding: .utf8)
            .contains("cohort site --kit DIR --data DIR"))
        #expect(try String(contentsOf: fixture.kit("alice").appendingPathComponent("README.md"), encoding: .utf8)
            .contains("cohort job submit job.yaml --kit DIR"))

        let registry = try ParticipantRegistry.load(from: ws.participantsFile)
        #expect(registry.participants == fixture.report.participants)
        #expect(registry.participants.allSatisfy { !$0.revoked })
        // The staging directory is gone.
        let entries = try FileManager.default.contentsOfDirectory(atPath: ws.url.path).sorted()
        #expect(entries == ["ca", "kits", "participants.json", "project.yaml"])
    }

    @Test("No private key appears outside its own kit")
    func privateKeysStayInTheirKits() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let names = fixture.report.participants.map(\.name)
        var keys: [String: String] = ["ca": try String(contentsOf: fixture.workspace.caKeyFile, encoding: .utf8)]
        for name in names {
            keys[name] = try String(contentsOf: fixture.kit(name).appendingPathComponent("key.pem"), encoding: .utf8)
        }
        #expect(Set(keys.values).count == keys.count, "every key is distinct")
        for kitName in names {
            for (path, data) in try snapshot(fixture.kit(kitName)) {
                let text = String(decoding: data, as: UTF8.self)
                for (owner, pem) in keys where owner != kitName {
                    // Compare the base64 body so a re-wrapped copy would be found too.
                    let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
                    let flattened = text.split(separator: "\n").joined()
                    #expect(!flattened.contains(body), "\(owner)'s key appears in \(kitName)\(path)")
                }
                if path.hasSuffix("key.pem") == false {
                    #expect(!text.contains("PRIVATE KEY"), "\(kitName)\(path) holds a private key")
                }
            }
        }
    }

    @Test("openssl verifies every kit certificate against ca.pem")
    func opensslVerifies() throws {
        guard opensslPath != nil else {
            print("openssl not found; skipping the openssl verify check")
            return
        }
        // openssl checks validity against the real clock, so provision at the real time.
        let other = try ProvisionedWorkspace(now: Date())
        defer { other.directory.remove() }
        let live = try ProvisionedWorkspace(now: Date())
        defer { live.directory.remove() }
        for record in live.report.participants {
            let kit = live.kit(record.name)
            let purpose = record.role == .coordinator ? "sslserver" : "sslclient"
            let result = try runOpenSSL(["verify", "-x509_strict", "-purpose", purpose, "-CAfile",
                                         kit.appendingPathComponent("ca.pem").path,
                                         kit.appendingPathComponent("cert.pem").path])
            #expect(result.status == 0, "\(record.name): \(result.output)")
            #expect(result.output.contains("OK"))
        }
        // A certificate from another workspace's CA does not verify.
        let foreign = try runOpenSSL(["verify", "-CAfile", live.kit("hospital-01").appendingPathComponent("ca.pem").path,
                                      other.kit("hospital-01").appendingPathComponent("cert.pem").path])
        #expect(foreign.status != 0)
    }

    @Test("Roles, names, organizations, EKUs and SANs read back from the certificates")
    func certificateContents() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let ca = try fixture.authority()
        let verifier = IdentityVerifier(caCertificate: ca.certificate)
        #expect(ca.certificate.subject.commonName == "hospital-net Cohort CA")
        #expect(try ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try ca.certificate.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        #expect(ca.certificate.extensions.first { $0.oid == .X509ExtensionID.basicConstraints }?.critical == true)
        #expect(ca.certificate.extensions.first { $0.oid == .X509ExtensionID.keyUsage }?.critical == true)
        #expect(ca.certificate.notValidAfter.timeIntervalSince(fixedNow) == 3650 * 86_400)

        for record in fixture.report.participants {
            let kit = try Kit.load(from: fixture.kit(record.name))
            let identity = try verifier.identity(of: kit.certificate, now: fixedNow)
            #expect(identity.name == record.name)
            #expect(identity.role == record.role)
            #expect(identity.organization == record.organization)
            #expect(identity.project == "hospital-net")
            #expect(identity.serialHex == record.serialHex)
            #expect(identity.fingerprint == record.fingerprint)
            #expect(identity.fingerprint.count == 64)
            #expect(identity.notAfter.timeIntervalSince(fixedNow) == 30 * 86_400)
            #expect(identity.notBefore < fixedNow)
            #expect(kit.certificate.signatureAlgorithm == .ecdsaWithSHA256)
            let akid = try #require(try kit.certificate.extensions.authorityKeyIdentifier?.keyIdentifier)
            #expect(akid == (try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier))
            #expect(try kit.certificate.extensions.subjectKeyIdentifier != nil)
            let usages = try #require(try kit.certificate.extensions.extendedKeyUsage).map { $0 }
            if record.role == .coordinator {
                #expect(Set(usages) == [.serverAuth, .clientAuth])
            } else {
                #expect(usages == [.clientAuth])
            }
        }
        #expect(fixture.report.participants.map(\.role) == [.coordinator, .site, .site, .site, .admin])

        let coordinator = try Kit.load(from: fixture.kit("coordinator")).certificate
        let sans = try #require(try coordinator.extensions.subjectAlternativeNames).map { $0 }
        #expect(sans.contains(.dnsName("coord.example.org")))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(try Kit.load(from: fixture.kit("hospital-01")).certificate.extensions.subjectAlternativeNames == nil)
    }

    @Test("An aggregator gets a server certificate for its host and an aggregator.yaml; its region's sites dial it, the others the coordinator")
    func aggregatorKits() throws {
        let yaml = sampleProjectYAML + """

            aggregators:
              - {name: region-north, host: agg-north.example.org, addresses: [10.0.0.7], port: 7444, sites: [hospital-01, hospital-03]}
            """
        let fixture = try ProvisionedWorkspace(yaml: yaml)
        defer { fixture.directory.remove() }
        #expect(fixture.report.participants.map(\.role) == [.coordinator, .aggregator, .site, .site, .site, .admin])
        let kit = try Kit.load(from: fixture.kit("region-north"))
        guard case .aggregator(let config) = kit.config else {
            Issue.record("region-north's kit is a \(kit.role.rawValue) kit")
            return
        }
        #expect(config.upstream == Endpoint(host: "coord.example.org", port: 7443))
        #expect(config.listen.port == 7444 && config.publicHost == "agg-north.example.org")
        #expect(config.sites == ["hospital-01", "hospital-03"] && config.minSites == 2)
        #expect(Set(try #require(try kit.certificate.extensions.extendedKeyUsage).map { $0 }) == [.serverAuth, .clientAuth])
        let sans = try #require(try kit.certificate.extensions.subjectAlternativeNames).map { $0 }
        #expect(sans.contains(.dnsName("agg-north.example.org")))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 7]))))
        #expect(kit.identity.role == .aggregator)
        #expect(try String(contentsOf: fixture.kit("region-north").appendingPathComponent("README.md"), encoding: .utf8)
            .contains("cohort aggregator --kit DIR"))
        for (site, endpoint) in [("hospital-01", Endpoint(host: "agg-north.example.org", port: 7444)),
                                 ("hospital-02", Endpoint(host: "coord.example.org", port: 7443)),
                                 ("hospital-03", Endpoint(host: "agg-north.example.org", port: 7444))] {
            guard case .site(let c) = try Kit.load(from: fixture.kit(site)).config else { continue }
            #expect(c.coordinator == endpoint, "\(site) dials \(c.coordinator)")
        }
        // The config round-trips through its YAML, and the workspace's project file keeps the region.
        #expect(try AggregatorConfig.parse(yaml: config.yaml(), source: "aggregator.yaml") == config)
        let reparsed = try ProjectDefinition.parse(yaml: try ProjectDefinition.load(from: fixture.workspace.projectFile).yaml(), source: "p")
        #expect(reparsed.aggregators == [.init(name: "region-north", host: "agg-north.example.org", addresses: ["10.0.0.7"], port: 7444,
                                               sites: ["hospital-01", "hospital-03"])])
        // Aggregators come from project.yaml, not --add-site.
        let added = expectPKIError(.notAllowed) {
            _ = try Provisioner().addParticipant(workspace: fixture.workspace.url, name: "region-south", organization: "X", role: .aggregator)
        }
        #expect(added != nil)
    }

    @Test("Kit configs carry the coordinator endpoint and defaults")
    func kitConfigs() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        guard case .coordinator(let coordinator) = try Kit.load(from: fixture.kit("coordinator")).config else {
            Issue.record("the coordinator kit has no coordinator config")
            return
        }
        #expect(coordinator.listen == .init(host: "0.0.0.0", port: 7443))
        #expect(coordinator.publicHost == "coord.example.org")
        #expect(coordinator.project == "hospital-net")
        guard case .site(let site) = try Kit.load(from: fixture.kit("hospital-02")).config else {
            Issue.record("the site kit has no site config")
            return
        }
        #expect(site.coordinator == Endpoint(host: "coord.example.org", port: 7443))
        #expect(site.policy == SitePolicy())
        guard case .admin(let admin) = try Kit.load(from: fixture.kit("alice")).config else {
            Issue.record("the admin kit has no admin config")
            return
        }
        #expect(admin.name == "alice")
    }

    @Test("Provisioning twice is refused and changes nothing")
    func refusesExistingWorkspace() throws {
        let fixture = try ProvisionedWorkspace()
        defer { fixture.directory.remove() }
        let before = try snapshot(fixture.workspace.url)
        let error = expectPKIError(.workspaceExists) {
            try Provisioner().provision(projectFile: fixture.directory.path("input/project.yaml"),
                                        workspace: fixture.workspace.url, now: fixedNow)
        }
        #expect(error?.hint?.contains("--add-site") == true)
        #expect(try snapshot(fixture.workspace.url) == before)
    }

    @Test("An invalid project file creates no workspace")
    func invalidProjectCreatesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("project.yaml", "name: p\nsites:\n  - {name: 'a b'}\n")
        let error = expectPKIError(.invalidProject) {
            try Provisioner().provision(projectFile: file, workspace: dir.path("ws"))
        }
        #expect(error?.description.contains("sites[0].name") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("ws").path))
    }
}
