import CohortAnalytics
import CohortSecAgg
import CohortStore
import CohortModel
import CohortPKI
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortWire
import Foundation
import GRPCCore
import Logging

/// The gRPC service sites call.
struct FederationService: Cohort_V1_Federation.SimpleServiceProtocol {
    let context: CoordinatorContext

    func hello(request: Cohort_V1_HelloRequest, context: ServerContext) async throws -> Cohort_V1_HelloResponse {
        let identity = try await self.context.authenticate(context, role: .site)
        try self.context.requireSame(claimed: request.site, identity: identity, method: "Hello")
        try self.context.requireSize(request.wireSize, method: "Hello", sender: identity.name)
        if let reason = WireProtocol.incompatibility(peerProtocol: request.versions.protocol, peerMinimum: request.versions.minProtocol,
                                                     peerSoftware: request.versions.software) {
            self.context.records.audit(identity.name, "connection.refused", ["reason": .string(reason)])
            throw RPCError(code: .failedPrecondition, message: reason)
        }
        self.context.records.siteSeen(identity, software: request.versions.software)
        await self.context.registry.setCodecs(site: identity.name, request.codecs)
        var r = Cohort_V1_HelloResponse()
        r.codecs = WireProtocol.codecs
        r.versions = WireProtocol.versions(software: self.context.config.software)
        r.coordinator = self.context.config.name
        r.heartbeatSeconds = UInt32(self.context.config.heartbeatSeconds)
        r.maxMessageBytes = UInt64(self.context.config.maxMessageBytes)
        r.maxUpdateBytes = UInt64(self.context.config.maxUpdateBytes)
        r.sessionID = UUID().uuidString
        return r
    }

    func session(
        request: RPCAsyncSequence<Cohort_V1_SiteEvent, any Error>, response: RPCWriter<Cohort_V1_CoordinatorEvent>,
        context: ServerContext
    ) async throws {
        let identity = try await self.context.authenticate(context, role: .site)
        let site = identity.name
        let logger = self.context.baseLogger.with(site: site)
        let (outbound, continuation) = AsyncStream<Cohort_V1_CoordinatorEvent>.makeStream()
        let sessionID = await self.context.registry.register(identity: identity, software: "", outbound: continuation)
        if let der = self.context.peerCertificateDER(context) { await self.context.registry.setCertificate(site: site, der) }
        self.context.records.audit(site, "site.connected", ["peer": .string(context.remotePeer), "serial": .string(identity.serialHex),
                                                            "not_after": .string(ISO8601DateFormatter().string(from: identity.notAfter))],
                                   hashes: [identity.fingerprint])
        logger.info("site connected", metadata: ["peer": "\(context.remotePeer)"])
        defer { logger.info("site disconnected") }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in outbound { try await response.write(event) }
                }
                group.addTask {
                    for try await event in request {
                        try await self.handle(event, from: identity)
                    }
                }
                // Either side ending ends the session.
                _ = try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.info("session ended: \(error)")
        }
        await self.context.registry.unregister(site: site, session: sessionID)
        self.context.records.audit(site, "site.disconnected", [:])
    }

    private func handle(_ event: Cohort_V1_SiteEvent, from identity: PeerIdentity) async throws {
        try self.context.requireSame(claimed: event.site, identity: identity, method: "Session")
        try self.context.requireSize(event.wireSize, method: "Session", sender: identity.name)
        switch event.event {
        case .heartbeat(let h)?:
            await self.context.registry.touch(site: identity.name, state: h.state)
        case .ack(let ack)?:
            await self.context.registry.touch(site: identity.name, state: nil)
            guard ack.status != .accepted else { return }
            let code: SiteFailure.Code = ack.status == .refused ? .refused : .failed
            let failure = SiteFailure(site: identity.name, code: code, message: "\(ack.code): \(ack.message)")
            self.context.records.audit(identity.name, ack.status == .refused ? "task.refused" : "task.failed",
                                       ["task": .string(ack.taskID), "job": .string(ack.jobID), "code": .string(ack.code),
                                        "message": .string(ack.message)])
            _ = await self.context.inbox.deliver(ack.taskID, .failure(failure))
        case .prepared(let p)?:
            guard await self.context.inbox.task(p.taskID, site: identity.name) != nil else { return }
            _ = await self.context.inbox.deliver(p.taskID, .prepared(site: identity.name, trainCount: Int(p.trainCount), testCount: Int(p.testCount)))
        case .secagg(let envelope)?:
            try await self.handleSecAgg(envelope, from: identity)
        case .psi(let envelope)?:
            await self.handlePSI(envelope, from: identity)
        case nil:
            throw RPCError(code: .invalidArgument, message: "empty session event (a newer protocol version?)")
        }
    }

    /// A private set intersection message: accepted only for an open PSI task of this site and only if it names
    /// the certificate's identity as its sender; its payload is not opened here (the runner's relay checks the
    /// addresses and parameters).
    private func handlePSI(_ envelope: Cohort_V1_PSIEnvelope, from identity: PeerIdentity) async {
        let site = identity.name
        guard let task = await self.context.inbox.task(envelope.taskID, site: site), task.kind == .psi else {
            self.context.records.audit(site, "psi.late", ["task": .string(envelope.taskID)])
            return
        }
        let message: PSIMessage
        do { message = try WireJSON.decoder().decode(PSIMessage.self, from: envelope.message) } catch {
            self.context.records.audit(site, "message.refused", ["method": "Session.psi", "reason": .string("unreadable: \(error)")])
            _ = await self.context.inbox.deliver(envelope.taskID, .failure(SiteFailure(site: site, code: .rejected, message: "an unreadable PSI message")))
            return
        }
        guard message.from == site else {
            self.context.records.audit(site, "message.refused", ["method": "Session.psi", "claimed": .string(message.from),
                                                                 "reason": "identity mismatch"])
            _ = await self.context.inbox.deliver(envelope.taskID, .failure(SiteFailure(site: site, code: .rejected,
                                                                                      message: "a PSI message claiming to come from '\(message.from)'")))
            return
        }
        _ = await self.context.inbox.deliverMessage(envelope.taskID, .psi(site: site, message: message, envelope: envelope))
    }

    /// A secure aggregation message: accepted only for an open training task of this site, and only if every
    /// sender it names is the certificate's identity.
    private func handleSecAgg(_ envelope: Cohort_V1_SecAggEnvelope, from identity: PeerIdentity) async throws {
        let site = identity.name
        guard let task = await self.context.inbox.task(envelope.taskID, site: site), task.kind == .train,
              task.job == envelope.jobID, task.round == Int(envelope.round)
        else {
            self.context.records.audit(site, "secagg.late", ["task": .string(envelope.taskID), "job": .string(envelope.jobID)])
            return
        }
        let message: SecAggMessage
        do { message = try envelope.secAggMessage(sender: site) } catch {
            self.context.records.audit(site, "message.refused", ["method": "Session.secagg", "reason": .string(error.message)])
            return
        }
        let claimed: String? = switch message {
        case .advertiseKeys(let m): m.sender
        case .shareKeys(let m): m.shares.contains { $0.sender != m.sender } ? "" : m.sender
        case .unmaskingResponse(let m): m.sender
        case .maskedInput(let m): m.sender
        default: ""
        }
        guard claimed == site else {
            self.context.records.audit(site, "message.refused", ["method": "Session.secagg", "claimed": .string(claimed ?? ""),
                                                                 "reason": "identity mismatch or a coordinator-side message"])
            return
        }
        var training: SiteTrainingRecord?
        if case .maskedInput = message {
            training = SiteTrainingRecord(
                examples: Int(clamping: envelope.exampleCount),
                training: TrainingSummary(steps: Int(clamping: envelope.steps), examplesSeen: Int(clamping: envelope.examplesSeen),
                                          meanLoss: envelope.meanLoss))
        }
        _ = await self.context.inbox.deliverMessage(envelope.taskID, .secagg(site: site, message: message, training: training))
    }

    func fetchModel(request: Cohort_V1_FetchModelRequest, response: RPCWriter<Cohort_V1_ModelChunk>, context: ServerContext) async throws {
        let identity = try await self.context.authenticate(context, role: .site)
        try self.context.requireSame(claimed: request.site, identity: identity, method: "FetchModel")
        try self.context.requireProtocol(request.protocol)
        guard self.context.records.siteMayFetch(site: identity.name, job: request.jobID, sha256: request.sha256) else {
            throw RPCError(code: .permissionDenied, message: "model \(request.sha256) is not a model of a job this site takes part in")
        }
        let model: (chunks: [Data], byteCount: Int)
        do { model = try self.context.records.modelChunks(sha256: request.sha256) } catch {
            throw RPCError(code: .notFound, message: "model \(request.sha256) is not available: \(error)")
        }
        await self.context.downloads.acquire(bytes: model.byteCount)
        do {
            try await self.send(model, sha256: request.sha256, to: response)
            await self.context.downloads.release(bytes: model.byteCount)
        } catch {
            await self.context.downloads.release(bytes: model.byteCount)
            throw error
        }
    }

    private func send(_ model: (chunks: [Data], byteCount: Int), sha256: String, to response: RPCWriter<Cohort_V1_ModelChunk>) async throws {
        var header = Cohort_V1_ModelChunk()
        var ref = Cohort_V1_ModelRef()
        ref.sha256 = sha256
        ref.byteCount = UInt64(model.byteCount)
        ref.elementCount = UInt64(model.byteCount / 4)
        header.header = ref
        try await response.write(header)
        for data in model.chunks {
            var chunk = Cohort_V1_ModelChunk()
            chunk.data = data
            try await response.write(chunk)
        }
    }

    func submitUpdate(request: RPCAsyncSequence<Cohort_V1_UpdateMessage, any Error>, context: ServerContext) async throws -> Cohort_V1_Receipt {
        let identity = try await self.context.authenticate(context, role: .site)
        var iterator = request.makeAsyncIterator()
        guard let first = try await iterator.next(), case .header(let header)? = first.part else {
            throw RPCError(code: .invalidArgument, message: "an update must start with its header")
        }
        try self.context.requireSame(claimed: header.site, identity: identity, method: "SubmitUpdate")
        try self.context.requireProtocol(header.protocol)
        let logger = self.context.logger(job: header.jobID, round: Int(header.round), site: identity.name)
        guard let task = await self.context.inbox.task(header.taskID, site: identity.name), task.kind == .train,
              task.job == header.jobID, task.round == Int(header.round)
        else {
            self.context.records.audit(identity.name, "update.late", ["task": .string(header.taskID), "job": .string(header.jobID),
                                                                     "round": .int(Int64(header.round))])
            logger.warning("late or unknown update discarded", metadata: ["task": "\(header.taskID)"])
            return .refused("late", "task \(header.taskID) is not open (the round closed or the task is unknown); the update was discarded")
        }
        let size = Int(min(header.update.byteCount, UInt64(Int.max)))
        await self.context.uploads.acquire(bytes: size)
        do {
            let receipt = try await self.receive(header, rest: &iterator, identity: identity, logger: logger)
            await self.context.uploads.release(bytes: size)
            return receipt
        } catch {
            await self.context.uploads.release(bytes: size)
            throw error
        }
    }

    private func receive(
        _ header: Cohort_V1_UpdateHeader, rest iterator: inout RPCAsyncSequence<Cohort_V1_UpdateMessage, any Error>.AsyncIterator,
        identity: PeerIdentity, logger: Logger
    ) async throws -> Cohort_V1_Receipt {
        func reject(_ error: WireError) async -> Cohort_V1_Receipt {
            self.context.records.audit(identity.name, "update.rejected", ["task": .string(header.taskID), "reason": .string(error.message)])
            _ = await self.context.inbox.deliver(header.taskID, .failure(SiteFailure(site: identity.name, code: .rejected, message: error.message)))
            return .refused(error.code.rawValue, error.message)
        }
        let encoded = !header.encoding.isEmpty
        let partial = header.encoding == WireProtocol.partialSumEncoding
        if partial, identity.role != .aggregator {
            return await reject(WireError(.invalidMessage, "only a regional aggregator's certificate may send a partial sum; send the update itself"))
        }
        var assembler: UpdateAssembler
        do {
            assembler = encoded
                ? .encoded(try ByteAssembler(header: header.update, limit: self.context.config.maxUpdateBytes, decodedLimit: self.context.config.maxUpdateBytes))
                : .raw(try VectorAssembler(header: header.update, limit: self.context.config.maxUpdateBytes))
        } catch {
            return await reject(error)
        }
        do {
            while let message = try await iterator.next() {
                try self.context.requireSize(message.wireSize, method: "SubmitUpdate", sender: identity.name)
                guard case .data(let d)? = message.part else {
                    throw WireError(.invalidMessage, "a second header inside one update")
                }
                try assembler.append(d)
                await self.context.inbox.progress(header.taskID, bytes: assembler.received)
            }
        } catch let e as WireError {
            return await reject(e)
        } catch {
            // The stream broke (the site disconnected or cancelled): discard what arrived; the task stays open, so the
            // site may send the update again before the round's deadline.
            await self.context.inbox.uploadAborted(header.taskID)
            self.context.records.audit(identity.name, "update.aborted", ["task": .string(header.taskID),
                                                                       "bytes_received": .int(Int64(assembler.received))])
            logger.warning("upload broke off after \(assembler.received) of \(header.update.byteCount) bytes; discarded")
            throw error
        }
        // A stream that broke mid-upload throws out of the loop above: nothing half-received reaches the round.
        if partial, case .encoded(let bytes) = assembler {
            return await self.receivePartial(header, bytes: bytes, identity: identity, reject: reject)
        }
        let delta: [Float]
        do { delta = try assembler.finish(count: Int(header.update.elementCount), site: identity.name) } catch {
            return await reject(error)
        }
        self.context.records.audit(identity.name, "update.received",
                                   ["job": .string(header.jobID), "round": .int(Int64(header.round)), "bytes": .int(Int64(header.update.byteCount))],
                                   hashes: [header.update.sha256.lowercased()])
        var modelDelta = delta
        var controlDelta: [Float]?
        if header.hasControlDelta_p {
            guard delta.count % 2 == 0 else {
                _ = await self.context.inbox.deliver(header.taskID, .failure(SiteFailure(site: identity.name, code: .rejected,
                                                                                       message: "an update with a control-variate change must have an even length")))
                return .refused("invalid-message", "an update with a control-variate change must have an even length")
            }
            modelDelta = Array(delta[0..<(delta.count / 2)])
            controlDelta = Array(delta[(delta.count / 2)...])
        }
        var update = SiteUpdate(site: identity.name, round: Int(header.round), delta: modelDelta, exampleCount: Int(header.exampleCount),
                                training: TrainingSummary(steps: Int(header.steps), examplesSeen: Int(header.examplesSeen), meanLoss: header.meanLoss),
                                controlDelta: controlDelta)
        // The site fetched the model (and SCAFFOLD's control variate, as long as the change it returns).
        update.transfer = TransferBytes(down: 4 * delta.count, up: Int(header.update.byteCount), upDense: 4 * delta.count)
        return await self.deliver(update, header: header, identity: identity)
    }

    /// Hands a received update to its round; the receipt says whether the round took it (a refusal is audited).
    private func deliver(_ update: SiteUpdate, header: Cohort_V1_UpdateHeader, identity: PeerIdentity) async -> Cohort_V1_Receipt {
        let receipt = await self.context.inbox.deliverUpdate(header.taskID, update)
            ?? .refused("late", "the round closed while the update was arriving; it was discarded")
        if !receipt.accepted {
            self.context.records.audit(identity.name, "update.rejected", ["task": .string(header.taskID), "reason": .string(receipt.message)],
                                       hashes: [header.update.sha256.lowercased()])
        }
        return receipt
    }

    /// A regional aggregator's exact partial sum, merged upstream as one site whose examples are the region's.
    private func receivePartial(_ header: Cohort_V1_UpdateHeader, bytes assembler: ByteAssembler, identity: PeerIdentity,
                                reject: (WireError) async -> Cohort_V1_Receipt) async -> Cohort_V1_Receipt {
        let sum: ExactAccumulator
        do {
            sum = try ExactAccumulator(serialized: try assembler.finish())
        } catch let e as WireError {
            return await reject(e)
        } catch {
            return await reject(WireError(.invalidMessage, "the partial sum is malformed: \(error)"))
        }
        guard sum.count == Int(header.update.elementCount) else {
            return await reject(WireError(.invalidMessage, "the partial sum has \(sum.count) values; the header announced \(header.update.elementCount)"))
        }
        guard header.exampleCount > 0, sum.totalWeight == Double(header.exampleCount) else {
            return await reject(WireError(.invalidMessage, "the partial sum's weight \(sum.totalWeight) is not the \(header.exampleCount) examples the header announced (a region weights its sites by examples)"))
        }
        self.context.records.audit(identity.name, "update.received",
                                   ["job": .string(header.jobID), "round": .int(Int64(header.round)), "bytes": .int(Int64(header.update.byteCount)),
                                    "partial_sum_of": .int(Int64(sum.contributions))],
                                   hashes: [header.update.sha256.lowercased()])
        var update = SiteUpdate(site: identity.name, round: Int(header.round), delta: [], exampleCount: Int(header.exampleCount),
                                training: TrainingSummary(steps: Int(header.steps), examplesSeen: Int(header.examplesSeen), meanLoss: header.meanLoss),
                                partial: sum)
        update.transfer = TransferBytes(down: 4 * sum.count, up: Int(header.update.byteCount), upDense: 4 * sum.count)
        return await self.deliver(update, header: header, identity: identity)
    }

    func submitEvaluation(request: Cohort_V1_EvaluationReport, context: ServerContext) async throws -> Cohort_V1_Receipt {
        let identity = try await self.context.authenticate(context, role: .site)
        try self.context.requireSame(claimed: request.site, identity: identity, method: "SubmitEvaluation")
        try self.context.requireSize(request.wireSize, method: "SubmitEvaluation", sender: identity.name)
        try self.context.requireProtocol(request.protocol)
        let summary: EvaluationSummary
        do { summary = try request.summary.summary() } catch {
            _ = await self.context.inbox.deliver(request.taskID, .failure(SiteFailure(site: identity.name, code: .rejected, message: error.message)))
            return .refused(error.code.rawValue, error.message)
        }
        let evaluation = SiteEvaluation(site: identity.name, metrics: request.metrics.metrics, summary: summary)
        guard await self.context.inbox.task(request.taskID, site: identity.name) != nil,
              await self.context.inbox.deliver(request.taskID, .evaluation(evaluation))
        else {
            return .refused("late", "task \(request.taskID) is not open; the evaluation was discarded")
        }
        return .accepted
    }

    func submitStatistics(request: Cohort_V1_StatisticsReport, context: ServerContext) async throws -> Cohort_V1_Receipt {
        let identity = try await self.context.authenticate(context, role: .site)
        try self.context.requireSame(claimed: request.site, identity: identity, method: "SubmitStatistics")
        try self.context.requireSize(request.wireSize, method: "SubmitStatistics", sender: identity.name)
        try self.context.requireProtocol(request.protocol)
        guard let task = await self.context.inbox.task(request.taskID, site: identity.name), task.kind == .statistics,
              await self.context.inbox.deliver(request.taskID, .statistics(site: identity.name, answer: request.answer))
        else {
            return .refused("late", "task \(request.taskID) is not open; the answer was discarded")
        }
        return .accepted
    }

    func reportTaskFailure(request: Cohort_V1_TaskFailureReport, context: ServerContext) async throws -> Cohort_V1_Receipt {
        let identity = try await self.context.authenticate(context, role: .site)
        try self.context.requireSame(claimed: request.site, identity: identity, method: "ReportTaskFailure")
        try self.context.requireSize(request.wireSize, method: "ReportTaskFailure", sender: identity.name)
        self.context.records.audit(identity.name, "task.failed", ["task": .string(request.taskID), "job": .string(request.jobID),
                                                                 "round": .int(Int64(request.round)), "code": .string(request.code),
                                                                 "message": .string(request.message)])
        let code: SiteFailure.Code = request.code == "policy" ? .refused : .failed
        _ = await self.context.inbox.deliver(request.taskID, .failure(SiteFailure(site: identity.name, code: code,
                                                                                 message: "\(request.code): \(request.message)")))
        return .accepted
    }
}

extension Logger {
    func with(site: String) -> Logger {
        var l = self
        l[metadataKey: "site"] = "\(site)"
        return l
    }
}

/// An update arriving as raw Float32 or as an encoded (compressed) update.
enum UpdateAssembler {
    case raw(VectorAssembler)
    case encoded(ByteAssembler)

    var received: Int {
        switch self {
        case .raw(let a): a.received
        case .encoded(let a): a.received
        }
    }

    mutating func append(_ chunk: Data) throws(WireError) {
        switch self {
        case .raw(var a):
            try a.append(chunk)
            self = .raw(a)
        case .encoded(var a):
            try a.append(chunk)
            self = .encoded(a)
        }
    }

    /// The update's values: received whole and intact, and for an encoded update decoded to `count` values.
    func finish(count: Int, site: String) throws(WireError) -> [Float] {
        switch self {
        case .raw(let a): return try a.finish()
        case .encoded(let a):
            let bytes = try a.finish()
            do { return try UpdateEncoding.decode(bytes, count: count, site: site) } catch {
                throw WireError(.invalidMessage, error.message)
            }
        }
    }
}
