import Crypto
public import Foundation
import X509

/// Creates a project's CA and startup kits, adds participants later, and revokes them.
///
/// ```swift
/// let report = try Provisioner().provision(projectFile: projectYAML, workspace: workspaceDir)
/// let record = try Provisioner().addParticipant(workspace: workspaceDir, name: "hospital-04", organization: "Four")
/// let list = try Provisioner().revoke(workspace: workspaceDir, name: "hospital-02", reason: "key lost")
/// ```
/// See ``Workspace`` for the files. Kits are written with the private key only in the participant's own kit
/// (`key.pem`, mode 0600) and never overwritten.
public struct Provisioner: Sendable {
    /// How far certificates' `notBefore` is set before `now`, to tolerate clock skew between machines.
    public var backdate: TimeInterval

    public init(backdate: TimeInterval = 300) {
        self.backdate = backdate
    }

    /// Creates a workspace from a project definition: CA, registry, a copy of the project file and one kit each.
    ///
    /// Throws ``PKIError/Code-swift.struct/workspaceExists`` if the workspace already holds a CA or kits. Everything
    /// is first written to a staging directory inside the workspace and moved into place at the end, so a failure
    /// leaves no half-provisioned workspace.
    public func provision(projectFile: URL, workspace url: URL, now: Date = Date()) throws(PKIError) -> ProvisionReport {
        let text = try ConfigCoding.read(projectFile, what: "project file")
        let project = try ProjectDefinition.parse(yaml: text, source: projectFile.path)
        let workspace = Workspace(url: url)
        for existing in [workspace.caDirectory, workspace.kitsDirectory, workspace.participantsFile]
        where SecureFile.exists(existing) {
            throw PKIError(.workspaceExists, file: existing.path,
                           "the workspace is already provisioned; provisioning again would invalidate every kit",
                           hint: "to add a participant use `cohort provision --add-site NAME --workspace \(url.path)`;"
                               + " to start over, delete the workspace")
        }
        try SecureFile.makeDirectory(url, mode: 0o755)
        let staging = Workspace(url: url.appendingPathComponent(".provisioning-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: staging.url) }
        try SecureFile.makeDirectory(staging.url, mode: 0o700)

        let notBefore = now.addingTimeInterval(-self.backdate)
        let authority = try CertificateAuthority.create(
            project: project.name, notBefore: notBefore,
            notAfter: now.addingTimeInterval(Double(project.authorityValidityDays) * 86_400))
        let caPEM = try authority.certificatePEM()
        let caFingerprint = try authority.certificate.sha256Fingerprint()
        try SecureFile.makeDirectory(staging.caDirectory, mode: 0o700)
        try SecureFile.create(staging.caCertificateFile, contents: caPEM, mode: 0o644)
        try SecureFile.create(staging.caKeyFile, contents: authority.privateKey.pemRepresentation + "\n", mode: 0o600)
        try SecureFile.makeDirectory(staging.kitsDirectory, mode: 0o755)

        var records: [ParticipantRecord] = []
        for participant in project.participants {
            let issued = try self.issue(participant, project: project, authority: authority, now: now)
            try KitWriter.write(to: staging.kitDirectory(for: participant.name), issued: issued, caPEM: caPEM,
                                config: Self.config(for: participant, project: project), caFingerprint: caFingerprint)
            records.append(try ParticipantRecord(issued: issued, organization: participant.organization))
        }
        let registry = ParticipantRegistry(project: project.name, caFingerprint: caFingerprint, participants: records)
        try SecureFile.replace(staging.participantsFile, contents: registry.jsonData())
        try SecureFile.create(staging.projectFile, contents: text, mode: 0o644)

        // Move into place: the CA last, so an interrupted run is still detected as "already provisioned" or redone.
        if SecureFile.exists(workspace.projectFile) { try? FileManager.default.removeItem(at: workspace.projectFile) }
        try SecureFile.move(staging.projectFile, to: workspace.projectFile)
        try SecureFile.move(staging.kitsDirectory, to: workspace.kitsDirectory)
        try SecureFile.move(staging.participantsFile, to: workspace.participantsFile)
        try SecureFile.move(staging.caDirectory, to: workspace.caDirectory)
        return ProvisionReport(project: project.name, workspace: url, caFingerprint: caFingerprint,
                               caNotAfter: authority.certificate.notValidAfter, participants: records)
    }

    /// Issues a participant certificate valid from `now - backdate` for the project's validity, capped at the CA's
    /// own expiry. The coordinator's and aggregators' certificates name their hosts and addresses in the SAN.
    func issue(_ participant: ProjectDefinition.Participant, project: ProjectDefinition,
               authority: CertificateAuthority, now: Date) throws(PKIError) -> IssuedCertificate {
        var dnsNames: [String] = []
        var ipAddresses: [String] = []
        var server: (host: String, addresses: [String])?
        if participant.role == .coordinator { server = (project.coordinator.host, project.coordinator.addresses) }
        if participant.role == .aggregator, let a = project.aggregators.first(where: { $0.name == participant.name }) {
            server = (a.host, a.addresses)
        }
        if let server {
            if IPAddress.bytes(server.host) != nil { ipAddresses.append(server.host) } else { dnsNames.append(server.host) }
            ipAddresses += server.addresses.filter { !ipAddresses.contains($0) }
        }
        let notAfter = min(now.addingTimeInterval(Double(project.participantValidityDays) * 86_400),
                           authority.certificate.notValidAfter)
        return try authority.issue(
            name: participant.name, role: participant.role, organization: participant.organization,
            project: project.name, notBefore: now.addingTimeInterval(-self.backdate), notAfter: notAfter,
            dnsNames: dnsNames, ipAddresses: ipAddresses)
    }

    /// The kit configuration of a participant, with defaults for everything the project does not decide.
    static func config(for participant: ProjectDefinition.Participant, project: ProjectDefinition) -> KitConfig {
        let endpoint = Endpoint(host: project.coordinator.host, port: project.coordinator.port)
        switch participant.role {
        case .coordinator:
            return .coordinator(CoordinatorConfig(
                name: participant.name, project: project.name,
                listen: .init(host: "0.0.0.0", port: project.coordinator.port), publicHost: project.coordinator.host))
        case .site:
            // A site in a region dials its aggregator.
            let region = project.aggregator(serving: participant.name).map { Endpoint(host: $0.host, port: $0.port) }
            return .site(SiteConfig(name: participant.name, project: project.name, coordinator: region ?? endpoint))
        case .admin:
            return .admin(AdminConfig(name: participant.name, project: project.name, coordinator: endpoint))
        case .aggregator:
            let a = project.aggregators.first { $0.name == participant.name }
            return .aggregator(AggregatorConfig(
                name: participant.name, project: project.name, upstream: endpoint,
                listen: .init(host: "0.0.0.0", port: a?.port ?? Endpoint.defaultPort), publicHost: a?.host ?? "localhost",
                sites: a?.sites ?? []))
        }
    }
}
