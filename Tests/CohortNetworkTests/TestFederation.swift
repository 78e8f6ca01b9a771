import CohortCoordinator
import CohortData
import CohortModel
import CohortPKI
import CohortSite
import CohortStore
import CohortTesting
import CohortWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Testing

/// A provisioned project with a coordinator running in this process (real gRPC, mutual TLS, on 127.0.0.1).
final class TestFederation: @unchecked Sendable {  // used from one test task at a time
    let dir: TemporaryDirectory
    let port: Int
    let workspace: URL
    let sites: [String]
    private var tasks: [Task<Void, any Error>] = []

    static var logger: Logger {
        var l = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        l.logLevel = .critical
        return l
    }

    init(sites: [String], configure: (inout CoordinatorConfig) -> Void = { _ in }) async throws {
        self.dir = try TemporaryDirectory(prefix: "cohort-net")
        self.port = Self.freePort()
        self.sites = sites
        self.workspace = self.dir.path("ws")
        var project = "name: net-test\ncoordinator: {name: coordinator, host: localhost, addresses: [127.0.0.1], port: \(self.port)}\nsites:\n"
        for s in sites { project += "  - {name: \(s), organization: \(s)}\n" }
        project += "admins:\n  - {name: admin, organization: centre}\n"
        let projectFile = try self.dir.write("project.yaml", project)
        _ = try Provisioner().provision(projectFile: projectFile, workspace: self.workspace)
        let configURL = self.kit("coordinator").appendingPathComponent("coordinator.yaml")
        var config = try CoordinatorConfig.load(from: configURL)
        config.listen.host = "127.0.0.1"
        config.heartbeatSeconds = 1
        configure(&config)
        try Data(config.yaml().utf8).write(to: configURL)
        try SyntheticHospitalNetwork(seed: 3, hospitals: 3).write(to: self.dir.path("data"))
    }

    func kit(_ name: String) -> URL { self.workspace.appendingPathComponent("kits/\(name)") }

    var stateDirectory: URL { self.dir.path("coordinator-state") }

    /// Starts the coordinator and waits until it listens.
    func startCoordinator() async throws {
        let coordinator = try Coordinator(kit: Kit.load(from: self.kit("coordinator")), stateDirectory: self.stateDirectory, logger: Self.logger)
        let (ready, readySink) = AsyncStream<Int>.makeStream()
        self.tasks.append(Task { try await coordinator.run(software: "test") { readySink.yield($0) } })
        var it = ready.makeAsyncIterator()
        _ = await it.next()
    }

    /// Starts a real site agent on the synthetic data.
    func startSite(_ name: String, configure: (inout SiteConfig) -> Void = { _ in }) throws {
        let configURL = self.kit(name).appendingPathComponent("site.yaml")
        var config = try SiteConfig.load(from: configURL)
        config.heartbeatSeconds = 1
        config.policy.minSitesPerAggregate = min(config.policy.minSitesPerAggregate, self.sites.count)
        configure(&config)
        try Data(config.yaml().utf8).write(to: configURL)
        let agent = try SiteAgent(kit: Kit.load(from: self.kit(name)), dataDirectory: self.dir.path("data"),
                                  stateDirectory: self.dir.path("state-\(name)"), logger: Self.logger)
        self.tasks.append(Task { try await agent.run(software: "test") })
    }

    /// Runs `body` with a gRPC client authenticated by a kit's certificate.
    func withClient<T: Sendable>(kit directory: URL, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: self.port),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: directory.appendingPathComponent("cert.pem").path, format: .pem)],
                privateKey: .file(path: directory.appendingPathComponent("key.pem").path, format: .pem)
            ) { tls in
                tls.trustRoots = .certificates([.file(path: directory.appendingPathComponent("ca.pem").path, format: .pem)])
                tls.serverCertificateVerification = .noHostnameVerification
            })
        return try await withGRPCClient(transport: transport) { try await body($0) }
    }

    /// A copy of a kit whose certificate is replaced (foreign CA, expired, ...).
    func tamperedKit(from name: String, as copy: String, certificate: IssuedCertificate) throws -> URL {
        let target = self.dir.path("kits-tampered/\(copy)")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: self.kit(name), to: target)
        try TestCertificates.install(certificate, inKit: target)
        return target
    }

    func admin<T: Sendable>(_ body: (Cohort_V1_Admin.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        try await self.withClient(kit: self.kit("admin")) { try await body(Cohort_V1_Admin.Client(wrapping: $0)) }
    }

    func submit(_ spec: JobSpecMessage) async throws -> String {
        try await self.admin { admin in
            var r = Cohort_V1_SubmitJobRequest()
            r.protocol = WireProtocol.version
            r.job = spec
            return try await admin.submitJob(r).id
        }
    }

    func detail(_ id: String) async throws -> Cohort_V1_JobDetail {
        try await self.admin { admin in
            var r = Cohort_V1_JobRequest()
            r.protocol = WireProtocol.version
            r.jobID = id
            return try await admin.getJob(r)
        }
    }

    /// Waits until the job ends; fails the test after `timeout` seconds.
    func waitForEnd(_ id: String, timeout: Double = 120) async throws -> Cohort_V1_JobDetail {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let d = try await self.detail(id)
            if ["finished", "failed", "cancelled"].contains(d.info.status) { return d }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("job \(id) did not end within \(timeout) s")
        return try await self.detail(id)
    }

    func auditEvents() throws -> [LogEntry] {
        try CoordinatorStore(directory: self.stateDirectory).audit.entries(from: 1, limit: 100_000)
    }

    func stop() async {
        for t in self.tasks { t.cancel() }
        for t in self.tasks { _ = try? await t.value }
        self.tasks.removeAll()
    }

    deinit { self.dir.remove() }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                _ = bind(fd, sp, len)
                _ = getsockname(fd, sp, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

typealias JobSpecMessage = Cohort_V1_JobSpec

/// A job definition for the synthetic data, as a wire message.
func testJob(name: String, sites: [String], minSites: Int, rounds: Int = 2, timeout: Int = 60, model: String = "logistic") throws -> Cohort_V1_JobSpec {
    var spec = JobSpecValues.make(name: name, sites: sites, minSites: minSites, rounds: rounds, timeout: timeout, model: model)
    spec.schemaYaml = SyntheticHospitalNetwork.schemaYAML
    return spec
}

import CohortRuntime

enum JobSpecValues {
    static func make(name: String, sites: [String], minSites: Int, rounds: Int, timeout: Int, model: String) -> Cohort_V1_JobSpec {
        let spec = JobSpec(name: name, sites: sites, minimumSites: minSites, model: model == "mlp" ? .mlp : .logistic, hidden: [8],
                           schemaYAML: SyntheticHospitalNetwork.schemaYAML, rounds: rounds, seed: 5, roundTimeoutSeconds: timeout,
                           waitForSitesSeconds: 30)
        return Cohort_V1_JobSpec(spec)
    }
}
