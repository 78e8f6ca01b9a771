public import Foundation

/// What ``Provisioner/provision(projectFile:workspace:now:)`` created.
public struct ProvisionReport: Sendable, Hashable, CustomStringConvertible {
    public var project: String
    public var workspace: URL
    /// Lowercase hex SHA-256 of the DER CA certificate.
    public var caFingerprint: String
    public var caNotAfter: Date
    /// Every participant, coordinator first.
    public var participants: [ParticipantRecord]

    public init(project: String, workspace: URL, caFingerprint: String, caNotAfter: Date,
                participants: [ParticipantRecord]) {
        self.project = project
        self.workspace = workspace
        self.caFingerprint = caFingerprint
        self.caNotAfter = caNotAfter
        self.participants = participants
    }

    /// A short text summary for the terminal.
    public var description: String {
        var lines = ["Provisioned project '\(self.project)' in \(self.workspace.path)",
                     "CA fingerprint (SHA-256): \(self.caFingerprint)"]
        let width = self.participants.map(\.name.count).max() ?? 0
        for p in self.participants {
            let padded = p.name + String(repeating: " ", count: max(0, width - p.name.count))
            let role = p.role.rawValue + String(repeating: " ", count: 11 - p.role.rawValue.count)
            lines.append("  \(padded)  \(role)  \(p.fingerprint)  kits/\(p.name)/")
        }
        lines.append("Hand each kit to its participant over a secure channel; keep ca/ca.key here.")
        return lines.joined(separator: "\n")
    }
}
