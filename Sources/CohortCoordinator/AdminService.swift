import CohortAnalytics
import CohortData
import CohortPKI
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
import Foundation
import GRPCCore

/// The gRPC service admins call. Every method requires an admin certificate.
struct AdminService: Cohort_V1_Admin.SimpleServiceProtocol {
    let context: CoordinatorContext
    let runner: JobRunner

    func submitJob(request: Cohort_V1_SubmitJobRequest, context: ServerContext) async throws -> Cohort_V1_JobInfo {
        let admin = try await self.context.authenticate(context, role: .admin)
        try self.context.requireProtocol(request.protocol)
        try self.context.requireSize(request.wireSize, method: "SubmitJob", sender: admin.name)
        let spec: JobSpec
        do {
            spec = try request.job.jobSpec()
            try spec.validate()
        } catch {
            self.context.records.audit(admin.name, "job.rejected", ["name": .string(request.job.name), "reason": .string("\(error)")])
            throw RPCError(code: .invalidArgument, message: "the job is not valid: \(error)")
        }
        let row = try self.context.records.createJob(spec, submittedBy: admin.name)
        self.context.records.audit(admin.name, "job.submitted", ["job": .string(row.id), "name": .string(spec.name),
                                                                 "rounds": .int(Int64(spec.rounds)), "sites": .array(spec.sites.map { .string($0) })],
                                   hashes: [Safetensors_sha(row.specJSON)])
        await self.runner.notify()
        return Self.info(row)
    }

    func runPSI(request: Cohort_V1_PSIRequest, context: ServerContext) async throws -> Cohort_V1_PSIResponse {
        let admin = try await self.context.authenticate(context, role: .admin)
        try self.context.requireProtocol(request.protocol)
        try self.context.requireSize(request.wireSize, method: "RunPSI", sender: admin.name)
        let parameters: PSIParameters
        do {
            _ = try DatasetSchema.parse(yaml: request.schemaYaml, source: "schema")
            guard let channel = PSIParameters.Channel(rawValue: request.channel.isEmpty ? "sealed" : request.channel) else {
                throw AnalyticsError(.parameterMismatch, "channel '\(request.channel)' is not sealed or plain")
            }
            parameters = PSIParameters(session: UUID().uuidString, parties: request.sites, receiver: request.receiver.isEmpty ? nil : request.receiver,
                                       output: request.members ? .members : .cardinality, channel: channel)
            try parameters.validate()
        } catch {
            self.context.records.audit(admin.name, "psi.rejected", ["reason": .string("\(error)")])
            throw RPCError(code: .invalidArgument, message: "the intersection is not valid: \(error)")
        }
        try await self.context.requireConnected(parameters.parties)
        let outcome: PSIRunner.Outcome
        do {
            outcome = try await PSIRunner(context: self.context).run(
                parameters: parameters, schemaYAML: request.schemaYaml, column: request.column.isEmpty ? nil : request.column,
                timeoutSeconds: request.timeoutSeconds == 0 ? 120 : Int(request.timeoutSeconds), admin: admin.name)
        } catch {
            throw RPCError(code: .failedPrecondition, message: "the intersection could not run: \(error)")
        }
        var r = Cohort_V1_PSIResponse()
        r.reportJson = try WireJSON.encoder().encode(outcome.report)
        r.failures = outcome.failures.map { Cohort_V1_Failure(site: $0.site, code: $0.code.rawValue, message: $0.message) }
        return r
    }

    func runQuery(request: Cohort_V1_QueryRequest, context: ServerContext) async throws -> Cohort_V1_QueryResponse {
        let admin = try await self.context.authenticate(context, role: .admin)
        try self.context.requireProtocol(request.protocol)
        try self.context.requireSize(request.wireSize, method: "RunQuery", sender: admin.name)
        let query: StatisticsQuery
        let schema: DatasetSchema
        do {
            query = try StatisticsQuery.parse(yaml: request.queryYaml, source: "query.yaml")
            schema = try DatasetSchema.parse(yaml: request.schemaYaml, source: "schema")
        } catch {
            self.context.records.audit(admin.name, "query.rejected", ["reason": .string("\(error)")])
            throw RPCError(code: .invalidArgument, message: "the query is not valid: \(error)")
        }
        let sites = request.sites.isEmpty ? await self.context.registry.connected : request.sites
        try await self.context.requireConnected(sites)
        guard !sites.isEmpty else { throw RPCError(code: .failedPrecondition, message: "no site is connected") }
        let timeout = request.timeoutSeconds == 0 ? 120 : Int(request.timeoutSeconds)
        let outcome: QueryRunner.Outcome
        do {
            outcome = try await QueryRunner(context: self.context).run(
                query: query, schema: schema, schemaYAML: request.schemaYaml, sites: sites, timeoutSeconds: timeout, admin: admin.name)
        } catch {
            throw RPCError(code: .failedPrecondition, message: "the query could not be answered: \(error)")
        }
        var r = Cohort_V1_QueryResponse()
        r.queryID = outcome.id
        r.resultJson = try WireJSON.encoder().encode(outcome.result)
        r.csv = outcome.result.csv
        r.failures = outcome.failures.map { Cohort_V1_Failure(site: $0.site, code: $0.code.rawValue, message: $0.message) }
        return r
    }

    func listJobs(request: Cohort_V1_ListJobsRequest, context: ServerContext) async throws -> Cohort_V1_JobList {
        _ = try await self.context.authenticate(context, role: .admin)
        var list = Cohort_V1_JobList()
        list.jobs = try self.context.records.store.jobs(status: nil).map(Self.info)
        return list
    }

    func getJob(request: Cohort_V1_JobRequest, context: ServerContext) async throws -> Cohort_V1_JobDetail {
        _ = try await self.context.authenticate(context, role: .admin)
        guard let job = try self.context.records.store.job(id: request.jobID) else {
            throw RPCError(code: .notFound, message: "no job \(request.jobID); `cohort job list` shows the jobs")
        }
        var detail = Cohort_V1_JobDetail()
        detail.info = Self.info(job)
        if let spec = try? self.context.records.spec(of: job) { detail.job = Cohort_V1_JobSpec(spec) }
        if let statistics = try? Data(contentsOf: self.context.records.standardizationFile(job: job.id)) {
            detail.standardizationJson = statistics
        }
        for row in try self.context.records.store.rounds(jobID: job.id) {
            guard let record = try? JSONDecoder().decode(RoundRecord.self, from: Data(row.recordJSON.utf8)) else { continue }
            var r = Cohort_V1_RoundInfo()
            r.round = UInt32(record.round)
            r.participants = record.participants
            r.aggregated = record.aggregated
            r.failures = record.failures.map { Cohort_V1_Failure(site: $0.site, code: $0.code, message: $0.message) }
            if let l = record.trainingLoss, l.isFinite { r.trainingLoss = l }
            if let e = record.evaluation {
                r.global = Cohort_V1_Metrics(e.global)
                for (site, m) in e.sites { r.sites[site] = Cohort_V1_Metrics(m) }
            }
            r.modelSha256 = record.modelSHA256
            detail.rounds.append(r)
        }
        return detail
    }

    func cancelJob(request: Cohort_V1_JobRequest, context: ServerContext) async throws -> Cohort_V1_JobInfo {
        let admin = try await self.context.authenticate(context, role: .admin)
        guard let job = try self.context.records.store.job(id: request.jobID) else {
            throw RPCError(code: .notFound, message: "no job \(request.jobID)")
        }
        guard !job.status.isTerminal else {
            throw RPCError(code: .failedPrecondition, message: "job \(job.id) already ended (\(job.status.rawValue))")
        }
        await self.runner.cancel(job.id)
        self.context.records.audit(admin.name, "job.cancel-requested", ["job": .string(job.id)])
        if job.status == .queued {
            try self.context.records.store.updateJobStatus(id: job.id, status: .cancelled, message: "cancelled by \(admin.name)", finalModelSHA256: nil)
        }
        return Self.info(try self.context.records.store.job(id: job.id) ?? job)
    }

    func downloadModel(request: Cohort_V1_JobRequest, response: RPCWriter<Cohort_V1_ModelChunk>, context: ServerContext) async throws {
        _ = try await self.context.authenticate(context, role: .admin)
        guard let job = try self.context.records.store.job(id: request.jobID) else {
            throw RPCError(code: .notFound, message: "no job \(request.jobID)")
        }
        let sha: String
        if let f = job.finalModelSHA256 {
            sha = f
        } else if let last = try self.context.records.store.lastCompletedRound(jobID: job.id) {
            sha = last.modelSHA256
        } else {
            throw RPCError(code: .failedPrecondition, message: "job \(job.id) has no model yet (no round completed)")
        }
        let bytes = try self.context.records.readModel(sha256: sha)
        var header = Cohort_V1_ModelChunk()
        var ref = Cohort_V1_ModelRef()
        ref.sha256 = sha
        ref.byteCount = UInt64(bytes.count)
        ref.elementCount = UInt64(bytes.count / 4)
        header.header = ref
        try await response.write(header)
        for range in chunkRanges(byteCount: bytes.count) {
            var chunk = Cohort_V1_ModelChunk()
            chunk.data = byteChunk(bytes, range)
            try await response.write(chunk)
        }
    }

    func getStatus(request: Cohort_V1_StatusRequest, context: ServerContext) async throws -> Cohort_V1_StatusResponse {
        _ = try await self.context.authenticate(context, role: .admin)
        var r = Cohort_V1_StatusResponse()
        r.versions = WireProtocol.versions(software: self.context.config.software)
        r.coordinator = self.context.config.name
        let sessions = await self.context.registry.allSessions
        var bySite = [String: Cohort_V1_SiteStatus]()
        for row in try self.context.records.store.sites() {
            var s = Cohort_V1_SiteStatus()
            s.name = row.name
            s.organization = row.organization
            s.lastSeenMs = UInt64(row.lastSeen.timeIntervalSince1970 * 1000)
            if let na = row.certNotAfter { s.certificateNotAfterMs = UInt64(na.timeIntervalSince1970 * 1000) }
            s.software = row.softwareVersion ?? ""
            bySite[row.name] = s
        }
        for session in sessions {
            var s = bySite[session.identity.name] ?? Cohort_V1_SiteStatus()
            s.name = session.identity.name
            s.connected = true
            s.lastSeenMs = UInt64(session.lastSeen.timeIntervalSince1970 * 1000)
            s.certificateNotAfterMs = UInt64(session.identity.notAfter.timeIntervalSince1970 * 1000)
            s.state = session.state
            bySite[session.identity.name] = s
        }
        r.sites = bySite.keys.sorted().map { bySite[$0]! }
        r.jobs = try self.context.records.store.jobs(status: nil).filter { !$0.status.isTerminal }.map(Self.info)
        return r
    }

    func revoke(request: Cohort_V1_RevokeRequest, context: ServerContext) async throws -> Cohort_V1_RevokeResponse {
        let admin = try await self.context.authenticate(context, role: .admin)
        let list: RevocationList
        do {
            list = try RevocationList.parse(json: request.revocationListJson, source: "revocation list from \(admin.name)")
            try list.verify(caCertificate: self.context.verifier.caCertificate)
        } catch {
            throw RPCError(code: .invalidArgument, message: "the revocation list is not valid or not signed by the project CA: \(error)")
        }
        var r = Cohort_V1_RevokeResponse()
        for e in list.entries {
            try self.context.records.store.addRevocation(RevocationRow(fingerprint: e.fingerprint, name: e.name, serial: e.serialHex,
                                                                       revokedAt: e.revokedAt, reason: e.reason))
            await self.context.revocations.add(fingerprint: e.fingerprint, name: e.name)
            await self.context.registry.disconnect(site: e.name, code: "revoked", message: "the certificate of '\(e.name)' was revoked")
            self.context.records.audit(admin.name, "certificate.revoked", ["name": .string(e.name), "serial": .string(e.serialHex),
                                                                          "reason": .string(e.reason)], hashes: [e.fingerprint])
            r.names.append(e.name)
        }
        r.revokedCount = UInt32(r.names.count)
        return r
    }

    static func info(_ job: JobRow) -> Cohort_V1_JobInfo {
        var i = Cohort_V1_JobInfo()
        i.id = job.id
        i.name = job.name
        i.status = job.status.rawValue
        i.submittedBy = job.submittedBy
        i.submittedAtMs = UInt64(job.submittedAt.timeIntervalSince1970 * 1000)
        i.roundsCompleted = UInt32(job.roundsCompleted)
        if let spec = try? JSONDecoder().decode(JobSpec.self, from: Data(job.specJSON.utf8)) { i.rounds = UInt32(spec.rounds) }
        i.message = job.message ?? ""
        i.finalModelSha256 = job.finalModelSHA256 ?? ""
        return i
    }
}

import CohortModel

func Safetensors_sha(_ text: String) -> String { Safetensors.sha256Hex(Array(text.utf8)) }
