import ArgumentParser
import CohortPKI
import CohortRuntime
import CohortWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// An admin's connection to the coordinator (mutual TLS with the admin kit).
struct AdminConnection: Sendable {
    let client: Cohort_V1_Admin.Client<HTTP2ClientTransport.Posix>
    let options: CallOptions

    /// Connects with an admin kit, runs `body`, and reports connection problems as one clear line.
    static func with<T: Sendable>(
        kit path: String, timeout: Duration = .seconds(60), reportErrors: Bool = true, _ body: @Sendable (AdminConnection) async throws -> T
    ) async throws -> T {
        let kit: Kit
        do { kit = try Kit.load(from: URL(fileURLWithPath: path)) } catch {
            Console.error(error.description)
            throw ExitCode(2)
        }
        guard case .admin(let config) = kit.config else {
            Console.error("\(path) is a \(kit.role.rawValue) kit; this command needs an admin kit")
            throw ExitCode(2)
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: config.coordinator.host, port: config.coordinator.port),
            transportSecurity: .mTLS(
                certificateChain: [.file(path: kit.certificateFile.path, format: .pem)],
                privateKey: .file(path: kit.privateKeyFile.path, format: .pem)
            ) { tls in tls.trustRoots = .certificates([.file(path: kit.caFile.path, format: .pem)]) })
        var options = CallOptions.defaults
        options.timeout = timeout
        do {
            return try await withGRPCClient(transport: transport) { client in
                try await body(AdminConnection(client: Cohort_V1_Admin.Client(wrapping: client), options: options))
            }
        } catch let e as RPCError where reportErrors {
            Console.error("\(config.coordinator): \(e.message) (\(e.code))")
            throw ExitCode(1)
        }
    }

    func submit(_ spec: JobSpec) async throws -> Cohort_V1_JobInfo {
        var r = Cohort_V1_SubmitJobRequest()
        r.protocol = WireProtocol.version
        r.job = Cohort_V1_JobSpec(spec)
        return try await self.client.submitJob(r, options: self.options)
    }

    func list() async throws -> [Cohort_V1_JobInfo] {
        var r = Cohort_V1_ListJobsRequest()
        r.protocol = WireProtocol.version
        return try await self.client.listJobs(r, options: self.options).jobs
    }

    func detail(_ id: String) async throws -> Cohort_V1_JobDetail {
        try await self.client.getJob(self.request(id), options: self.options)
    }

    func cancel(_ id: String) async throws -> Cohort_V1_JobInfo {
        try await self.client.cancelJob(self.request(id), options: self.options)
    }

    func query(_ r: Cohort_V1_QueryRequest) async throws -> Cohort_V1_QueryResponse {
        var r = r
        r.protocol = WireProtocol.version
        return try await self.client.runQuery(r, options: self.options)
    }

    func psi(_ r: Cohort_V1_PSIRequest) async throws -> Cohort_V1_PSIResponse {
        var r = r
        r.protocol = WireProtocol.version
        return try await self.client.runPSI(r, options: self.options)
    }

    func status() async throws -> Cohort_V1_StatusResponse {
        var r = Cohort_V1_StatusRequest()
        r.protocol = WireProtocol.version
        return try await self.client.getStatus(r, options: self.options)
    }

    func revoke(_ json: Data) async throws -> [String] {
        var r = Cohort_V1_RevokeRequest()
        r.protocol = WireProtocol.version
        r.revocationListJson = json
        return try await self.client.revoke(r, options: self.options).names
    }

    /// Downloads a job's model as a verified flat vector.
    func download(_ id: String) async throws -> (values: [Float], sha256: String) {
        try await self.client.downloadModel(self.request(id), options: self.options) { response in
            var assembler: VectorAssembler?
            for try await chunk in response.messages {
                switch chunk.part {
                case .header(let h)?: assembler = try VectorAssembler(header: h, limit: Int.max)
                case .data(let d)?: try assembler?.append(d)
                case nil: break
                }
            }
            guard let a = assembler else { throw WireError(.incomplete, "the coordinator sent no model") }
            return (try a.finish(), a.expected.sha256)
        }
    }

    func request(_ id: String) -> Cohort_V1_JobRequest {
        var r = Cohort_V1_JobRequest()
        r.protocol = WireProtocol.version
        r.jobID = id
        return r
    }
}
