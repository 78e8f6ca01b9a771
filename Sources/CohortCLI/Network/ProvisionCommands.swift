import ArgumentParser
import CohortPKI
import Foundation

/// `cohort provision`: create a project CA and startup kits, or add a participant.
struct Provision: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the project CA and one startup kit per participant from project.yaml, or add a participant.",
        discussion: """
            cohort provision project.yaml --out WORKSPACE
            cohort provision --workspace WORKSPACE --add-site NAME --organization ORG

            Each kit (WORKSPACE/kits/<name>/) holds its owner's certificate, private key (mode 0600), the CA \
            certificate, a ready config and a README. Adding a participant touches no other kit.
            """)

    @Argument(help: "project.yaml (to create a new workspace).")
    var project: String?

    @Option(help: "Workspace directory to create.")
    var out: String?

    @Option(help: "Existing workspace (with --add-site / --add-admin).")
    var workspace: String?

    @Option(name: .customLong("add-site"), help: "Add a site to an existing workspace.")
    var addSite: String?

    @Option(name: .customLong("add-admin"), help: "Add an admin to an existing workspace.")
    var addAdmin: String?

    @Option(help: "Organization of the added participant.")
    var organization: String?

    func run() throws {
        do {
            if let name = self.addSite ?? self.addAdmin {
                guard let ws = self.workspace else { throw ValidationError("--add-site/--add-admin need --workspace DIR") }
                let record = try Provisioner().addParticipant(
                    workspace: URL(fileURLWithPath: ws), name: name, organization: self.organization ?? name,
                    role: self.addSite != nil ? .site : .admin)
                print("Added \(record.role.rawValue) '\(record.name)': kit \(ws)/kits/\(record.name) (certificate \(record.fingerprint.prefix(16))..., valid until \(ISO8601DateFormatter().string(from: record.notAfter)))")
                return
            }
            guard let project = self.project else { throw ValidationError("give project.yaml, or --workspace with --add-site") }
            let out = self.out ?? "workspace"
            let report = try Provisioner().provision(projectFile: URL(fileURLWithPath: project), workspace: URL(fileURLWithPath: out))
            print(report.description)
        } catch let e as PKIError {
            Console.error(e.description)
            throw ExitCode(2)
        }
    }
}

/// `cohort cert`: certificate management.
struct Cert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage certificates.", subcommands: [Revoke.self])

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a participant's certificate (signed by the project CA); with --kit, tell the coordinator at once.")

        @Argument(help: "Participant name.")
        var name: String

        @Option(help: "Workspace holding the project CA.")
        var workspace: String = "workspace"

        @Option(help: "Reason, recorded in the revocation list and the audit log.")
        var reason: String = "revoked by an admin"

        @Option(help: "An admin kit: send the signed list to the running coordinator (no restart needed).")
        var kit: String?

        func run() async throws {
            do {
                let list = try Provisioner().revoke(workspace: URL(fileURLWithPath: self.workspace), name: self.name, reason: self.reason)
                print("Revoked '\(self.name)'; revocation list #\(list.sequence) written to \(self.workspace)/revocations.json")
                guard let kit = self.kit else {
                    print("Send it to the coordinator with: cohort cert revoke \(self.name) --workspace \(self.workspace) --kit ADMIN_KIT")
                    return
                }
                let data = try list.jsonData()
                let names = try await AdminConnection.with(kit: kit) { admin in try await admin.revoke(data) }
                print("The coordinator now refuses: \(names.joined(separator: ", "))")
            } catch let e as PKIError {
                Console.error(e.description)
                throw ExitCode(2)
            }
        }
    }
}
