public import Foundation
import X509

extension Provisioner {
    /// Issues one new kit with the workspace's CA, without touching any other kit.
    ///
    /// Adds the participant to `participants.json` and to the `sites` (or `admins`) list of the workspace's
    /// `project.yaml` (which is rewritten, dropping its comments). Throws
    /// ``PKIError/Code-swift.struct/duplicateParticipant`` if the name (ignoring case) was ever issued, and
    /// ``PKIError/Code-swift.struct/notAllowed`` for a second coordinator.
    public func addParticipant(workspace url: URL, name: String, organization: String, role: Role = .site,
                               now: Date = Date()) throws(PKIError) -> ParticipantRecord {
        let workspace = Workspace(url: url)
        try workspace.requireProvisioned()
        guard role != .coordinator else {
            throw PKIError(.notAllowed, "a project has exactly one coordinator; add a site or an admin instead")
        }
        guard role != .aggregator else {
            throw PKIError(.notAllowed, "aggregators are provisioned from project.yaml's aggregators: section",
                           hint: "list the aggregator and its sites in project.yaml before provisioning")
        }
        guard ParticipantName.isValid(name) else {
            throw PKIError(.invalidProject, key: "name", "'\(name)' is not a valid participant name",
                           hint: ParticipantName.rule)
        }
        try ProjectDefinition.checkOrganization(organization, key: "organization", source: "add-participant")
        var registry = try ParticipantRegistry.load(from: workspace.participantsFile)
        var project = try ProjectDefinition.load(from: workspace.projectFile)
        let existing = registry.participant(named: name).map { ($0.name, $0.role) }
            ?? project.participant(named: name).map { ($0.name, $0.role) }
        if let existing {
            throw PKIError(.duplicateParticipant,
                           "'\(name)' is already a participant (\(existing.1.rawValue) '\(existing.0)')",
                           hint: "participant names are unique ignoring case and never reused; choose another name")
        }
        let authority = try workspace.loadAuthority()
        guard authority.certificate.notValidAfter > now else {
            throw PKIError(.certificateExpired, file: workspace.caCertificateFile.path, "the project CA has expired",
                           hint: "provision a new workspace")
        }
        let participant = ProjectDefinition.Participant(name: name, role: role, organization: organization)
        let member = ProjectDefinition.Member(name: name, organization: organization)
        if role == .site { project.sites.append(member) } else { project.admins.append(member) }
        try project.validate(source: workspace.projectFile.path)

        let issued = try self.issue(participant, project: project, authority: authority, now: now)
        let caPEM = try ConfigCoding.read(workspace.caCertificateFile, what: "CA certificate")
        // Write the kit under a hidden name and rename it, so a failure leaves no partial kit behind.
        let staging = workspace.kitsDirectory.appendingPathComponent(".\(name)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        let kit = workspace.kitDirectory(for: name)
        guard !SecureFile.exists(kit) else {
            throw PKIError(.duplicateParticipant, file: kit.path, "a kit directory for '\(name)' already exists")
        }
        try KitWriter.write(to: staging, issued: issued, caPEM: caPEM,
                            config: Self.config(for: participant, project: project),
                            caFingerprint: registry.caFingerprint)
        try SecureFile.move(staging, to: kit)

        let record = try ParticipantRecord(issued: issued, organization: organization)
        registry.participants.append(record)
        try SecureFile.replace(workspace.participantsFile, contents: registry.jsonData())
        try SecureFile.replace(workspace.projectFile, contents: Data(project.yaml().utf8))
        return record
    }

    /// Revokes a participant: marks it in `participants.json` and writes a new signed `revocations.json` holding
    /// every revocation so far, with the next sequence number.
    ///
    /// An existing `revocations.json` must verify with the CA, or nothing is written. Copy the new list to the
    /// coordinator's kit directory for it to take effect.
    public func revoke(workspace url: URL, name: String, reason: String, now: Date = Date()) throws(PKIError)
        -> RevocationList
    {
        let workspace = Workspace(url: url)
        try workspace.requireProvisioned()
        var registry = try ParticipantRegistry.load(from: workspace.participantsFile)
        guard let index = registry.participants.firstIndex(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw PKIError(.unknownParticipant, file: workspace.participantsFile.path, "no participant is named '\(name)'",
                           hint: "participants: \(registry.participants.map(\.name).joined(separator: ", "))")
        }
        var record = registry.participants[index]
        guard !record.revoked else {
            throw PKIError(.alreadyRevoked, "'\(record.name)' was already revoked"
                               + (record.revokedAt.map { " at \(IdentityVerifier.format($0))" } ?? ""))
        }
        let authority = try workspace.loadAuthority()
        var previous: RevocationList?
        if SecureFile.exists(workspace.revocationsFile) {
            previous = try RevocationList.load(from: workspace.revocationsFile, caCertificate: authority.certificate)
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        let entry = RevocationList.Entry(name: record.name, serialHex: record.serialHex,
                                         fingerprint: record.fingerprint, revokedAt: now,
                                         reason: trimmed.isEmpty ? "unspecified" : trimmed)
        let list = try RevocationList.signed(
            project: registry.project, sequence: (previous?.sequence ?? 0) + 1, issuedAt: now,
            entries: (previous?.entries ?? []) + [entry], by: authority)
        try SecureFile.replace(workspace.revocationsFile, contents: list.jsonData())

        record.revoked = true
        record.revokedAt = list.entries.last?.revokedAt
        record.revocationReason = entry.reason
        registry.participants[index] = record
        try SecureFile.replace(workspace.participantsFile, contents: registry.jsonData())
        return list
    }
}
