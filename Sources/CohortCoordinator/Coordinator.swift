public import CohortPKI
import CohortStore
import CohortWire
public import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging

/// A coordinator: the gRPC server sites and admins connect to (mutual TLS with the project CA), the job runner, and
/// the durable state (SQLite and content-addressed model checkpoints) in the state directory.
///
/// ```swift
/// let coordinator = try Coordinator(kit: Kit.load(from: kitURL), stateDirectory: nil, logger: logger)
/// try await coordinator.run()
/// ```
public struct Coordinator: Sendable {
    public let kit: Kit
    public let config: CoordinatorConfig
    public let stateDirectory: URL
    let logger: Logger

    /// Prepares a coordinator from its startup kit; the state directory defaults to the kit's `state_dir`.
    public init(kit: Kit, stateDirectory: URL?, logger: Logger) throws {
        guard case .coordinator(let config) = kit.config else {
            throw PKIError(.roleMismatch, file: kit.directory.path, "this is a \(kit.role.rawValue) kit; `cohort coordinator` needs the coordinator's kit")
        }
        self.kit = kit
        self.config = config
        self.stateDirectory = stateDirectory ?? config.stateDirectory(kit: kit.directory)
        self.logger = logger
    }

    /// Runs until the task is cancelled (or the server fails).
    ///
    /// - Parameter onListening: Called with the bound port once the server listens.
    public func run(software: String, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let store = try CoordinatorStore(directory: self.stateDirectory)
        let records = CoordinatorRecords(store: store, logger: self.logger)
        let revoked = Set(try store.revocations().map(\.fingerprint))
        let settings = CoordinatorSettings(
            name: self.config.name, heartbeatSeconds: max(1, Int(self.config.heartbeatSeconds)),
            maxMessageBytes: self.config.maxMessageBytes, maxUpdateBytes: self.config.maxUpdateBytes,
            stallTimeoutSeconds: max(1, Int(self.config.stallTimeoutSeconds)), software: software)
        let context = CoordinatorContext(config: settings, records: records, verifier: IdentityVerifier(caCertificate: self.kit.caCertificate),
                                         revocations: RevocationSet(fingerprints: revoked), logger: self.logger)
        await context.registry.onDisconnect { site in await context.inbox.siteDisconnected(site) }
        let runner = JobRunner(context: context)
        records.audit(self.config.name, "coordinator.started", ["software": .string(software), "state": .string(self.stateDirectory.path),
                                                               "project": .string(self.config.project)],
                      hashes: [self.kit.identity.fingerprint] + ((try? self.kit.caCertificate.sha256Fingerprint()).map { [$0] } ?? []))
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: self.config.listen.host, port: self.config.listen.port),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: self.kit.certificateFile.path, format: .pem)],
                privateKey: .file(path: self.kit.privateKeyFile.path, format: .pem)
            ) { tls in
                tls.trustRoots = .certificates([.file(path: self.kit.caFile.path, format: .pem)])
                tls.clientCertificateVerification = .noHostnameVerification
            },
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = max(16 << 20, 4 * self.config.maxMessageBytes)
                // Large flow-control windows and frames: with the 64 KiB default, a site uploading a multi-megabyte
                // update waits for a window update every 64 KiB.
                $0.http2.targetWindowSize = 4 << 20
                $0.http2.maxFrameSize = 1 << 20
            })
        let server = GRPCServer(transport: transport, services: [FederationService(context: context), AdminService(context: context, runner: runner)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { await runner.run() }
            if let address = try await transport.listeningAddress.ipv4 {
                self.logger.info("listening on \(address.host):\(address.port)")
                onListening(address.port)
            }
            do {
                try await withTaskCancellationHandler {
                    _ = try await group.next()
                } onCancel: {
                    server.beginGracefulShutdown()
                }
            } catch {
                server.beginGracefulShutdown()
                group.cancelAll()
                throw error
            }
            server.beginGracefulShutdown()
            group.cancelAll()
        }
        records.audit(self.config.name, "coordinator.stopped")
    }
}
