import CohortCompression
import CohortData
import CohortModel
import CohortPKI
import CohortPrivacy
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortTensor
import CohortWire
import Foundation
import GRPCCore
import Logging

/// One connected session: the control stream (heartbeats up, tasks down) and a worker that runs tasks one at a time.
struct SiteSession: Sendable {
    let agent: SiteAgent
    let federation: Cohort_V1_Federation.Client<HTTP2ClientTransportAlias>
    let store: SiteStore
    let jobs: JobCache
    let heartbeat: Duration
    let maxUpdateBytes: Int
    let software: String
    let secagg = SecAggMailbox()
    let psi = Mailbox<Cohort_V1_PSIEnvelope>()

    var site: String { self.agent.config.name }
    var policy: SitePolicy { self.agent.config.policy }

    func run() async throws {
        let (tasks, taskSink) = AsyncStream<Cohort_V1_Task>.makeStream()
        let (outgoing, outgoingSink) = AsyncStream<Cohort_V1_SiteEvent>.makeStream()
        let state = SessionState()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.federation.session { writer in
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            while true {
                                var hb = Cohort_V1_Heartbeat()
                                hb.sentAtMs = UInt64(Date().timeIntervalSince1970 * 1000)
                                hb.state = await state.current
                                try await writer.write(self.event { $0.heartbeat = hb })
                                try await Task.sleep(for: self.heartbeat)
                            }
                        }
                        inner.addTask {
                            for await e in outgoing { try await writer.write(e) }
                        }
                        _ = try await inner.next()
                        inner.cancelAll()
                    }
                } onResponse: { response in
                    for try await message in response.messages {
                        switch message.event {
                        case .task(let t)?: taskSink.yield(t)
                        case .secagg(let envelope)?:
                            if !(await self.secagg.deliver(envelope, to: envelope.taskID)) {
                                self.agent.logger.warning("secure aggregation message for task \(envelope.taskID), which is not running here")
                            }
                        case .cancel(let c)?:
                            // A task that exchanges messages stops waiting for them (the others were told why).
                            self.agent.logger.warning("the coordinator cancelled task \(c.taskID): \(c.reason)")
                            await self.psi.cancel(c.taskID)
                            await self.secagg.cancel(c.taskID)
                        case .psi(let envelope)?:
                            if !(await self.psi.deliver(envelope, to: envelope.taskID)) {
                                self.agent.logger.warning("private set intersection message for task \(envelope.taskID), which is not running here")
                            }
                        case .goodbye(let g)?:
                            self.agent.logger.warning("coordinator ended the session: \(g.code): \(g.message)")
                            if g.code == "revoked" { throw SiteAgent.FatalError(message: "this site's certificate was revoked: \(g.message)") }
                            return
                        default: break
                        }
                    }
                }
            }
            group.addTask {
                for await task in tasks {
                    await state.set("\(NetworkTaskName.of(task.kind)) \(task.jobID) round \(task.round)")
                    await self.handle(task, outgoing: outgoingSink)
                    await state.set("idle")
                }
            }
            // The session ending (or failing) ends the worker too; the agent reconnects.
            _ = try await group.next()
            taskSink.finish()
            outgoingSink.finish()
            await self.secagg.closeAll()
            await self.psi.closeAll()
            group.cancelAll()
        }
    }

    func event(_ fill: (inout Cohort_V1_SiteEvent) -> Void) -> Cohort_V1_SiteEvent {
        var e = Cohort_V1_SiteEvent()
        e.protocol = WireProtocol.version
        e.site = self.site
        fill(&e)
        return e
    }

    func jobLogger(_ jobID: String, round: Int? = nil) -> Logger {
        let file = self.agent.stateDirectory.appendingPathComponent("logs/\(jobID).log")
        var l = Logger(label: "cohort.site") { label in
            MultiplexLogHandler([FileLogHandler(url: file), self.agent.logger.handler])
        }
        l[metadataKey: "site"] = "\(self.site)"
        l[metadataKey: "job"] = "\(jobID)"
        if let round { l[metadataKey: "round"] = "\(round)" }
        return l
    }

    /// Records something that leaves the site.
    func egress(_ kind: String, job: String, round: Int, bytes: Int, sha256: String?, extra: [String: LogValue] = [:]) {
        var payload: [String: LogValue] = ["kind": .string(kind), "job": .string(job), "round": .int(Int64(round)), "bytes": .int(Int64(bytes))]
        payload.merge(extra) { _, b in b }
        do {
            _ = try self.store.egress.append(actor: self.site, event: "egress.\(kind)", payload: payload, contentHashes: sha256.map { [$0] } ?? [])
        } catch {
            self.agent.logger.error("cannot write the egress log: \(error)")
        }
    }

    func handle(_ task: Cohort_V1_Task, outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation) async {
        let round = Int(task.round)
        let logger = self.jobLogger(task.jobID, round: round)
        if let region = self.agent.region {
            await self.handle(task, for: region, outgoing: outgoing, logger: logger)
            return
        }
        switch task.kind {
        case .prepare:
            await self.prepare(task, outgoing: outgoing, logger: logger)
        case .train, .evaluate:
            let kindName = task.kind == .train ? "train" : "evaluate"
            guard self.policy.allows(task: kindName) else {
                await self.refuse(task, code: "policy", message: "this site's policy does not allow \(kindName) tasks", outgoing: outgoing, logger: logger)
                return
            }
            guard let job = await self.jobs.get(task.jobID) else {
                await self.fail(task, code: "unprepared", message: "the site has not prepared job \(task.jobID)", logger: logger)
                return
            }
            if round > self.policy.maxRounds {
                await self.refuse(task, code: "policy", message: "round \(round) exceeds this site's max_rounds \(self.policy.maxRounds)", outgoing: outgoing, logger: logger)
                return
            }
            do {
                let model = try await self.fetchModel(task.model, job: task.jobID, layout: job.executor.network.layout)
                if task.kind == .train {
                    try await self.train(task, job: job, model: model, outgoing: outgoing, logger: logger)
                } else {
                    try await self.evaluate(task, job: job, model: model, logger: logger)
                }
            } catch let f as SiteFailure {
                await self.fail(task, code: f.code.rawValue, message: f.message, logger: logger)
            } catch {
                await self.fail(task, code: "failed", message: "\(error)", logger: logger)
            }
        case .statistics:
            await self.answerQuery(task, logger: logger)
        case .psi:
            await self.takePartInPSI(task, outgoing: outgoing, logger: logger)
        case .finish:
            await self.jobs.remove(task.jobID)
            logger.info("job ended: \(task.jobStatus)")
        default:
            logger.warning("ignoring a task of unknown kind \(task.kind.rawValue) (a newer coordinator?)")
        }
    }

    private func prepare(_ task: Cohort_V1_Task, outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation, logger: Logger) async {
        let spec: JobSpec
        do { spec = try task.job.jobSpec() } catch {
            await self.fail(task, code: "invalid-job", message: error.message, logger: logger)
            return
        }
        if let refusal = self.policy.check(spec) {
            await self.refuse(task, code: refusal.code, message: refusal.message, outgoing: outgoing, logger: logger)
            return
        }
        let prepared: PreparedJob
        if let cached = await self.jobs.get(task.jobID), cached.spec == spec {
            prepared = cached
        } else {
            do {
                let schema = try spec.schema(source: "job \(task.jobID) schema")
                var globalStatistics: TableStatistics?
                if spec.standardize == .global {
                    globalStatistics = try? WireJSON.decoder().decode(TableStatistics.self, from: task.globalStatistics)
                }
                let dataset = try SiteDataset.load(directory: self.agent.dataDirectory, site: self.site, schema: schema,
                                                   standardize: spec.standardize, testFraction: spec.testFraction, seed: spec.seed,
                                                   globalStatistics: globalStatistics)
                let network = try DenseNetwork(try spec.modelSpec())
                let executor = SiteExecutor(name: self.site, network: network, train: dataset.encoded.train, test: dataset.encoded.test,
                                            noise: self.policy.reproducibleNoise ? .seeded : .secure)
                prepared = PreparedJob(jobID: task.jobID, spec: spec, executor: executor, dataset: dataset)
                logger.info("data validated: \(dataset.site.trainReport.summary)")
            } catch let e as DataError {
                logger.error("the data does not match the job's schema: \(e)")
                await self.fail(task, code: "data", message: "the site's data does not match the job's schema: \(e.redactedDescription) (details in the site's job log)", logger: logger)
                return
            } catch {
                await self.fail(task, code: "failed", message: "\(error)", logger: logger)
                return
            }
            await self.jobs.put(prepared)
        }
        if let refusal = self.chargePrivacyBudget(spec, job: task.jobID, examples: prepared.executor.trainingData.count, logger: logger) {
            await self.jobs.remove(task.jobID)
            await self.refuse(task, code: refusal.code, message: refusal.message, outgoing: outgoing, logger: logger)
            return
        }
        self.sendPrepared(task, train: prepared.executor.trainingData.count, test: prepared.executor.testData.count,
                          rowsRejected: prepared.dataset.site.trainReport.rowsRejected, outgoing: outgoing)
        logger.info("accepted job \(task.jobID) (\(spec.name)): \(prepared.executor.trainingData.count) training and \(prepared.executor.testData.count) test examples")
    }

    /// Tells the coordinator the job is accepted, with the examples behind it, after recording it in the egress log.
    func sendPrepared(_ task: Cohort_V1_Task, train: Int, test: Int, rowsRejected: Int = 0,
                      outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation) {
        var result = Cohort_V1_PrepareResult()
        result.taskID = task.taskID
        result.jobID = task.jobID
        result.trainCount = UInt64(train)
        result.testCount = UInt64(test)
        result.rowsRejected = UInt64(rowsRejected)
        let e = self.event { $0.prepared = result }
        self.egress("prepared", job: task.jobID, round: 0, bytes: e.wireBytes().count, sha256: nil,
                    extra: ["train_count": .int(Int64(train)), "test_count": .int(Int64(test))])
        outgoing.yield(e)
    }

    /// With a `max_epsilon` in the site's policy: computes what the job would spend here, refuses it if the ledger
    /// cannot afford it, else records the spend (once per job: a job prepared again after a coordinator restart is
    /// not charged twice) in the ledger and the egress log before any result leaves the site.
    private func chargePrivacyBudget(_ spec: JobSpec, job: String, examples: Int, logger: Logger) -> PolicyRefusal? {
        guard let maxEpsilon = self.policy.maxEpsilon else { return nil }
        guard let privacy = spec.privacy else {
            return PolicyRefusal(code: "privacy", message: "this site has a privacy budget (max_epsilon \(maxEpsilon)) and the job has no differential privacy; add a privacy section to the job")
        }
        do {
            let spend = try privacy.spend(rounds: spec.rounds, fraction: spec.fraction, training: spec.runSettings.siteTraining, examples: examples)
            let ledger = try self.privacyLedger()
            if ledger.entries.contains(where: { $0.jobID == job }) {
                logger.info("privacy spend of job \(job) already recorded")
                return nil
            }
            let entry = spend.ledgerEntry(jobID: job)
            if let refusal = ledger.check(adding: entry, maxEpsilon: maxEpsilon) {
                return PolicyRefusal(code: "privacy-budget", message: refusal.message)
            }
            try self.recordPrivacySpend(entry, extra: ["total_epsilon": .double(ledger.totalEpsilon + entry.epsilon),
                                                      "max_epsilon": .double(maxEpsilon)])
            logger.info("privacy: job \(job) spends epsilon \(entry.epsilon) at delta \(entry.delta); site total \(ledger.totalEpsilon + entry.epsilon) of \(maxEpsilon)")
            return nil
        } catch {
            return PolicyRefusal(code: "privacy", message: "cannot account the job's privacy: \(error)")
        }
    }

    /// The site's privacy ledger as its store holds it (training jobs and noisy statistics alike).
    func privacyLedger() throws -> PrivacyLedger {
        try PrivacyLedger(entries: try self.store.privacySpends().map {
            PrivacyLedger.Entry(jobID: $0.jobID, epsilon: $0.epsilon, delta: $0.delta, mechanism: $0.mechanism)
        })
    }

    /// Records a spend in the ledger and in the egress log, before anything it pays for leaves the site.
    func recordPrivacySpend(_ entry: PrivacyLedger.Entry, extra: [String: LogValue] = [:]) throws {
        try self.store.recordPrivacySpend(jobID: entry.jobID, epsilon: entry.epsilon, delta: entry.delta, mechanism: entry.mechanism)
        var payload: [String: LogValue] = ["job_id": .string(entry.jobID), "epsilon": .double(entry.epsilon),
                                           "delta": .double(entry.delta), "mechanism": .string(entry.mechanism)]
        payload.merge(extra) { _, b in b }
        _ = try self.store.egress.append(actor: self.site, event: "privacy.spend", payload: payload, contentHashes: [])
    }

    func refuse(_ task: Cohort_V1_Task, code: String, message: String, outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation, logger: Logger) async {
        logger.warning("refused \(NetworkTaskName.of(task.kind)) task: \(message)")
        var ack = Cohort_V1_TaskAck()
        ack.taskID = task.taskID
        ack.jobID = task.jobID
        ack.status = .refused
        ack.code = code
        ack.message = message
        self.egress("refusal", job: task.jobID, round: Int(task.round), bytes: message.utf8.count, sha256: nil, extra: ["code": .string(code), "message": .string(message)])
        outgoing.yield(self.event { $0.ack = ack })
    }

    func fail(_ task: Cohort_V1_Task, code: String, message: String, logger: Logger) async {
        logger.error("\(NetworkTaskName.of(task.kind)) task failed: \(code): \(message)")
        var report = Cohort_V1_TaskFailureReport()
        report.protocol = WireProtocol.version
        report.site = self.site
        report.taskID = task.taskID
        report.jobID = task.jobID
        report.round = task.round
        report.code = code
        report.message = message
        self.egress("failure", job: task.jobID, round: Int(task.round), bytes: message.utf8.count, sha256: nil, extra: ["code": .string(code)])
        _ = try? await self.federation.reportTaskFailure(report)
    }

    func fetchModel(_ ref: Cohort_V1_ModelRef, job: String, layout: ParameterLayout) async throws -> ModelParameters {
        var request = Cohort_V1_FetchModelRequest()
        request.protocol = WireProtocol.version
        request.site = self.site
        request.jobID = job
        request.sha256 = ref.sha256
        let limit = max(layout.totalCount * 4, 1)
        let values = try await self.federation.fetchModel(request) { response in
            var assembler: VectorAssembler?
            for try await chunk in response.messages {
                switch chunk.part {
                case .header(let h)?:
                    guard h.sha256 == ref.sha256 else { throw SiteFailure(site: self.site, code: .failed, message: "the coordinator sent model \(h.sha256), not \(ref.sha256)") }
                    // The coordinator verified the checkpoint's SHA-256 when it read it, and TLS authenticates every
                    // byte in transit; hashing 4 MB again per round at every site costs more than the training.
                    assembler = try VectorAssembler(header: h, limit: limit, verifyHash: false)
                case .data(let d)?:
                    guard assembler != nil else { throw SiteFailure(site: self.site, code: .failed, message: "model data before its header") }
                    try assembler!.append(d)
                case nil: break
                }
            }
            guard let a = assembler else { throw SiteFailure(site: self.site, code: .failed, message: "the model transfer was empty") }
            return try a.finish()
        }
        guard values.count == layout.totalCount else {
            throw SiteFailure(site: self.site, code: .failed, message: "the global model has \(values.count) values; this job's model has \(layout.totalCount)")
        }
        return ModelParameters(layout: layout, flat: values)
    }

    private func train(_ task: Cohort_V1_Task, job: PreparedJob, model: ModelParameters,
                       outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation, logger: Logger) async throws {
        var instructions = try task.instructions.trainInstructions()
        instructions.round = Int(task.round)
        var siteControl: [Float]?
        if task.hasControl {
            instructions.serverControl = try await self.fetchModel(task.control, job: task.jobID, layout: model.layout).flat
            siteControl = RoundVectorFile.control.load(directory: self.agent.stateDirectory, job: task.jobID, before: Int(task.round), count: model.count)
        }
        let result = try job.executor.train(global: model, instructions: instructions, siteControl: siteControl)
        let update = result.update
        if let newControl = result.siteControl {
            // Kept at the site, by round, so that a round the coordinator repeats after a restart starts from the
            // same control variate as the first time.
            try RoundVectorFile.control.save(newControl, directory: self.agent.stateDirectory, job: task.jobID, round: Int(task.round))
        }
        if task.hasSecagg || instructions.secureSum != nil {
            guard let settings = instructions.secureSum, task.hasSecagg else {
                throw SiteFailure(site: self.site, code: .refused, message: "secure aggregation needs both its parameters and its encoding; the task lacks one")
            }
            try await self.trainSecurely(task, update: update, settings: settings, outgoing: outgoing, logger: logger)
            return
        }
        if job.spec.privacy?.secureAggregation == true {
            // Fail closed: a job that promised secure aggregation never gets this site's update in the clear.
            throw SiteFailure(site: self.site, code: .refused, message: "the job uses secure aggregation but the task asks for the update in the clear")
        }
        let payload = UpdateEncoding.payload(of: update)
        // The bytes sent: raw Float32 (chunked straight from the vector), or the job's codec with this site's
        // error-feedback residual.
        var encoded: [UInt8]?
        var encoding = ""
        if let codec = instructions.compression {
            var residual = RoundVectorFile.residual.load(directory: self.agent.stateDirectory, job: task.jobID, before: Int(task.round),
                                                         count: payload.count).map(ErrorFeedback.init(residual:))
            encoded = try UpdateEncoding.encode(payload, codec: codec, residual: &residual, seed: instructions.seed,
                                                site: self.site, round: Int(task.round)).bytes
            if let residual {
                try RoundVectorFile.residual.save(residual.residual, directory: self.agent.stateDirectory, job: task.jobID, round: Int(task.round))
            }
            encoding = codec.description
        }
        var ref = Cohort_V1_ModelRef(vector: payload)
        if let encoded {
            ref.byteCount = UInt64(encoded.count)
            ref.sha256 = encoded.withUnsafeBytes { Safetensors.sha256Hex($0) }
        }
        try await self.upload(task, update: update, ref: ref, payload: encoded.map { .bytes($0) } ?? .values(payload), encoding: encoding, logger: logger)
    }

    /// What an upload carries: Float32 values (chunked straight from the vector) or encoded bytes.
    enum UploadPayload {
        case values([Float])
        case bytes([UInt8])

        func chunk(_ r: Range<Int>) -> Data {
            switch self {
            case .values(let v): vectorChunk(v, r)
            case .bytes(let b): byteChunk(b, r)
            }
        }
    }

    /// Sends an update in chunks after recording it in the egress log.
    func upload(_ task: Cohort_V1_Task, update: SiteUpdate, ref: Cohort_V1_ModelRef, payload: UploadPayload, encoding: String, logger: Logger) async throws {
        var header = Cohort_V1_UpdateHeader()
        header.protocol = WireProtocol.version
        header.site = self.site
        header.taskID = task.taskID
        header.jobID = task.jobID
        header.round = task.round
        header.exampleCount = UInt64(update.exampleCount)
        header.steps = UInt64(update.training.steps)
        header.examplesSeen = UInt64(update.training.examplesSeen)
        header.meanLoss = update.training.meanLoss
        header.update = ref
        header.hasControlDelta_p = update.controlDelta != nil
        header.encoding = encoding
        let finalHeader = header
        let ranges = chunkRanges(byteCount: Int(ref.byteCount))
        self.egress("update", job: task.jobID, round: Int(task.round), bytes: Int(ref.byteCount), sha256: ref.sha256,
                    extra: ["examples": .int(Int64(update.exampleCount)), "encoding": .string(encoding.isEmpty ? "dense" : encoding)])
        let receipt = try await self.federation.submitUpdate { writer in
            var h = Cohort_V1_UpdateMessage()
            h.header = finalHeader
            try await writer.write(h)
            for r in ranges {
                var m = Cohort_V1_UpdateMessage()
                m.data = payload.chunk(r)
                try await writer.write(m)
            }
        }
        if receipt.accepted {
            logger.info("update sent: \(ref.byteCount) bytes, loss \(String(format: "%.4f", update.training.meanLoss))")
        } else {
            logger.warning("the coordinator did not use the update: \(receipt.code): \(receipt.message)")
        }
    }

    private func evaluate(_ task: Cohort_V1_Task, job: PreparedJob, model: ModelParameters, logger: Logger) async throws {
        try await self.report(task, evaluation: job.executor.evaluate(model), logger: logger)
    }

    /// Sends an evaluation (metrics and the mergeable summary) after recording it in the egress log.
    func report(_ task: Cohort_V1_Task, evaluation e: SiteEvaluation, logger: Logger) async throws {
        var report = Cohort_V1_EvaluationReport()
        report.protocol = WireProtocol.version
        report.site = self.site
        report.taskID = task.taskID
        report.jobID = task.jobID
        report.round = task.round
        report.metrics = Cohort_V1_Metrics(e.metrics)
        report.summary = Cohort_V1_EvaluationSummary(e.summary)
        let bytes = report.wireBytes()
        self.egress("evaluation", job: task.jobID, round: Int(task.round), bytes: bytes.count, sha256: Safetensors.sha256Hex(bytes))
        let receipt = try await self.federation.submitEvaluation(report)
        if !receipt.accepted { logger.warning("evaluation not used: \(receipt.code): \(receipt.message)") }
    }
}

/// What the site is doing, for heartbeats.
actor SessionState: CustomStringConvertible {
    private var text = "idle"
    func set(_ t: String) { self.text = t }
    nonisolated var description: String { "" }
    var current: String { self.text }
}

enum NetworkTaskName {
    static func of(_ kind: Cohort_V1_TaskKind) -> String {
        switch kind {
        case .prepare: "prepare"
        case .train: "train"
        case .evaluate: "evaluate"
        case .finish: "finish"
        case .statistics: "statistics"
        case .psi: "psi"
        default: "unknown"
        }
    }
}

typealias HTTP2ClientTransportAlias = HTTP2ClientTransport.Posix
import GRPCNIOTransportHTTP2
