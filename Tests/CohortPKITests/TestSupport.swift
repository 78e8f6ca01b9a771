import CohortTesting
import Foundation
import Testing

@testable import CohortPKI

/// A fixed clock for provisioning: 2025-01-15T12:00:00Z.
let fixedNow = Date(timeIntervalSince1970: 1_736_942_400)

/// A 3-site, 1-admin project with a DNS host and two IP addresses.
let sampleProjectYAML = """
    # test project
    name: hospital-net
    coordinator:
      name: coordinator
      host: coord.example.org
      addresses: [127.0.0.1, "::1"]
      port: 7443
    sites:
      - {name: hospital-01, organization: "Hospital One"}
      - {name: hospital-02, organization: "Hospital Two"}
      - {name: hospital-03, organization: "Hospital Three"}
    admins:
      - {name: alice, organization: "Research Centre"}
    validity_days: 30
    """

/// A provisioned workspace in a temporary directory.
struct ProvisionedWorkspace {
    let directory: TemporaryDirectory
    let workspace: Workspace
    let report: ProvisionReport

    init(yaml: String = sampleProjectYAML, now: Date = fixedNow) throws {
        self.directory = try TemporaryDirectory(prefix: "cohort-pki")
        let projectFile = try self.directory.write("input/project.yaml", yaml)
        self.workspace = Workspace(url: self.directory.path("ws"))
        self.report = try Provisioner().provision(projectFile: projectFile, workspace: self.workspace.url, now: now)
    }

    func kit(_ name: String) -> URL { self.workspace.kitDirectory(for: name) }

    func authority() throws -> CertificateAuthority { try TestCertificates.loadCA(workspace: self.workspace.url) }
}

/// Every regular file under `root` (relative path → bytes).
func snapshot(_ root: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
    for case let url as URL in enumerator {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count))
            result[relative] = try Data(contentsOf: url)
        }
    }
    return result
}

/// The permission bits of a file.
func permissions(_ url: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return try #require((attributes[.posixPermissions] as? NSNumber)?.intValue) & 0o777
}

/// Runs `body` and checks it throws a ``PKIError`` with `code`; returns the error.
@discardableResult
func expectPKIError<T>(_ code: PKIError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws -> T) -> PKIError? {
    do {
        _ = try body()
        Issue.record("expected a PKIError with code \(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as PKIError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a PKIError with code \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The path of an `openssl` executable, if one is installed.
let opensslPath: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs openssl with arguments; returns the exit status and combined output.
func runOpenSSL(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(opensslPath))
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
