import CohortData
import CohortModel
public import CohortPKI
public import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
public import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging

/// The site agent: dials out to the coordinator (no inbound port), keeps a session with heartbeats, checks every
/// job against the site's policy, validates its data against the job's schema, trains and evaluates with the same
/// ``SiteExecutor`` as the simulation, and logs everything that leaves the site in its egress log.
///
/// Connection failures are retried with exponential backoff and full jitter (0.5 s doubling up to 30 s). A refused
/// certificate or an incompatible protocol version stops the agent with an error that says what to do.
public struct SiteAgent: Sendable {
    public let kit: Kit
    public let config: SiteConfig
    public let dataDirectory: URL
    public let stateDirectory: URL
    /// Set when this agent is a regional aggregator's link upstream: tasks go to the region, not to local data.
    public let region: (any RegionalTier)?
    let logger: Logger

    public init(kit: Kit, dataDirectory: URL, stateDirectory: URL?, logger: Logger) throws {
        guard case .site(let config) = kit.config else {
            throw PKIError(.roleMismatch, file: kit.directory.path, "this is a \(kit.role.rawValue) kit; `cohort site` needs a site's kit")
        }
        self.kit = kit
        self.config = config
        self.dataDirectory = dataDirectory
        self.stateDirectory = stateDirectory ?? config.stateDirectory(kit: kit.directory)
        self.region = nil
        self.logger = logger
    }

    /// A regional aggregator's link to its upstream: it joins as one site (its certificate's name) and hands every
    /// task to `region`. Its egress log records what the aggregator passed up.
    public init(upstreamOf kit: Kit, region: any RegionalTier, stateDirectory: URL, logger: Logger) throws {
        guard case .aggregator(let a) = kit.config else {
            throw PKIError(.roleMismatch, file: kit.directory.path, "this is a \(kit.role.rawValue) kit; a regional link needs an aggregator's kit")
        }
        self.kit = kit
        self.config = SiteConfig(name: a.name, project: a.project, coordinator: a.upstream, stateDir: stateDirectory.path,
                                 heartbeatSeconds: a.heartbeatSeconds)
        self.dataDirectory = stateDirectory
        self.stateDirectory = stateDirectory
        self.region = region
        self.logger = logger
    }

    /// A fatal condition: retrying cannot help.
    public struct FatalError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { self.message }
    }

    /// Runs until cancelled, reconnecting as needed.
    public func run(software: String) async throws {
        let store = try SiteStore(directory: self.stateDirectory)
        let jobs = JobCache()
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await self.connectOnce(software: software, store: store, jobs: jobs) { attempt = 0 }
                self.logger.info("session ended; reconnecting")
            } catch let fatal as FatalError {
                throw fatal
            } catch is CancellationError {
                return
            } catch let rpc as RPCError where rpc.code == .permissionDenied || rpc.code == .failedPrecondition || rpc.code == .unauthenticated {
                throw FatalError(message: "the coordinator refused this site: \(rpc.message)")
            } catch {
                self.logger.warning("connection to \(self.config.coordinator) failed: \(error)")
            }
            attempt += 1
            let cap = min(30.0, 0.5 * pow(2.0, Double(min(attempt, 10))))
            let delay = Double.random(in: 0.5 * cap...cap)
            self.logger.info("retrying in \(String(format: "%.1f", delay)) s (attempt \(attempt))")
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
    }

    func transport() throws -> HTTP2ClientTransport.Posix {
        try HTTP2ClientTransport.Posix(
            target: .dns(host: self.config.coordinator.host, port: self.config.coordinator.port),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: self.kit.certificateFile.path, format: .pem)],
                privateKey: .file(path: self.kit.privateKeyFile.path, format: .pem)
            ) { tls in
                tls.trustRoots = .certificates([.file(path: self.kit.caFile.path, format: .pem)])
            },
            config: .defaults {
                $0.connection.maxIdleTime = nil
                $0.http2.targetWindowSize = 4 << 20
                $0.http2.maxFrameSize = 1 << 20
            })
    }

    private func connectOnce(software: String, store: SiteStore, jobs: JobCache, onConnected: () -> Void) async throws {
        try await withGRPCClient(transport: try self.transport()) { client in
            let federation = Cohort_V1_Federation.Client(wrapping: client)
            var hello = Cohort_V1_HelloRequest()
            hello.versions = WireProtocol.versions(software: software)
            hello.site = self.config.name
            hello.taskKinds = self.config.policy.allowedTasks.map(\.rawValue)
            hello.modelKinds = self.config.policy.allowedModels.map(\.rawValue)
            hello.codecs = WireProtocol.codecs
            var options = CallOptions.defaults
            options.timeout = .seconds(30)
            let welcome = try await federation.hello(hello, options: options)
            if let reason = WireProtocol.incompatibility(peerProtocol: welcome.versions.protocol, peerMinimum: welcome.versions.minProtocol,
                                                         peerSoftware: welcome.versions.software) {
                throw FatalError(message: "cannot work with this coordinator: \(reason)")
            }
            onConnected()
            self.logger.info("connected to \(welcome.coordinator) (cohort \(welcome.versions.software), protocol \(welcome.versions.protocol))")
            let session = SiteSession(agent: self, federation: federation, store: store, jobs: jobs,
                                      heartbeat: .seconds(Int(max(1, welcome.heartbeatSeconds))),
                                      maxUpdateBytes: Int(welcome.maxUpdateBytes), software: software)
            try await session.run()
        }
    }
}

/// Jobs this site prepared, kept across reconnects so a coordinator restart does not reload data needlessly.
actor JobCache {
    private var jobs: [String: PreparedJob] = [:]
    func get(_ id: String) -> PreparedJob? { self.jobs[id] }
    func put(_ job: PreparedJob) { self.jobs[job.jobID] = job }
    func remove(_ id: String) { self.jobs[id] = nil }
}
