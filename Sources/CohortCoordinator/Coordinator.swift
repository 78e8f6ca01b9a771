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
        try await Self.serve(kit: self.kit, config: self.config, stateDirectory: self.stateDirectory, logger: self.logger,
                             software: software, onListening: onListening) { context in
            let runner = JobRunner(context: context)
            return ([FederationService(context: context), AdminService(context: context, runner: runner)], { await runner.run() })
        }
    }

    /// The server a coordinator and a regional aggregator share: the durable state, the context its services use,
    /// and the gRPC server with mutual TLS against the project CA. `setup` names the services and the work that
    /// runs beside them (the job runner; an aggregator's upstream link); either ending stops the server.
    static func serve(
        kit: Kit, config: CoordinatorConfig, stateDirectory: URL, logger: Logger, software: String,
        onListening: @Sendable (Int) -> Void,
        setup: (CoordinatorContext) -> (services: [any RegistrableRPCService], work: @Sendable () async throws -> Void)
    ) async throws {
        let store = try CoordinatorStore(directory: stateDirectory)
        let records = CoordinatorRecords(store: store, logger: logger)
        // Revocations the admin sent while running, and the operator's signed list copied into the kit (verified
        // with the project CA; a list that does not verify stops the server rather than being ignored).
        var revoked = Set(try store.revocations().map(\.fingerprint))
        if let list = try kit.loadRevocations() {
            revoked.formUnion(list.entries.map(\.fingerprint))
            logger.info("refusing \(list.entries.count) revoked certificates from \(kit.revocationsFile.lastPathComponent) (sequence \(list.sequence))")
        }
        let settings = CoordinatorSettings(
            name: config.name, heartbeatSeconds: max(1, Int(config.heartbeatSeconds)),
            maxMessageBytes: config.maxMessageBytes, maxUpdateBytes: config.maxUpdateBytes,
            stallTimeoutSeconds: max(1, Int(config.stallTimeoutSeconds)), software: software)
        let context = CoordinatorContext(config: settings, records: records, verifier: IdentityVerifier(caCertificate: kit.caCertificate),
                                         revocations: RevocationSet(fingerprints: revoked), logger: logger)
        await context.registry.onDisconnect { site in await context.inbox.siteDisconnected(site) }
        let (services, work) = setup(context)
        let role = kit.role.rawValue
        records.audit(config.name, "\(role).started", ["software": .string(software), "state": .string(stateDirectory.path),
                                                       "project": .string(config.project)],
                      hashes: [kit.identity.fingerprint] + ((try? kit.caCertificate.sha256Fingerprint()).map { [$0] } ?? []))
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: config.listen.host, port: config.listen.port),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: kit.certificateFile.path, format: .pem)],
                privateKey: .file(path: kit.privateKeyFile.path, format: .pem)
            ) { tls in
                tls.trustRoots = .certificates([.file(path: kit.caFile.path, format: .pem)])
                tls.clientCertificateVerification = .noHostnameVerification
            },
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = max(16 << 20, 4 * config.maxMessageBytes)
                // Large flow-control windows and frames: with the 64 KiB default, a site uploading a multi-megabyte
                // update waits for a window update every 64 KiB.
                $0.http2.targetWindowSize = 4 << 20
                $0.http2.maxFrameSize = 1 << 20
            })
        let server = GRPCServer(transport: transport, services: services)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { try await work() }
            if let address = try await transport.listeningAddress.ipv4 {
                logger.info("listening on \(address.host):\(address.port)")
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
        records.audit(config.name, "\(role).stopped")
    }
}
