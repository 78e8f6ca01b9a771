import CohortModel
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
import Foundation
import Logging

extension JobRunner {
    /// Runs (or resumes) an asynchronous job: every free site gets a training task with the newest model; each
    /// update is applied as FedBuff or FedAsync prescribe (weighted by its staleness); a site that disconnects is
    /// given a new task when it comes back. `rounds` counts model versions; each version is committed like a round.
    func asyncRounds(job jobID: String, spec: JobSpec, settings: AsyncJobSettings, sites: [SiteInfo], logger: Logger) async throws -> String {
        let layout = try spec.modelSpec().layout
        var global = try spec.initialModel()
        var version = 0
        if let resume = try self.context.records.store.lastCompletedRound(jobID: jobID) {
            global = try ModelParameters(layout: layout, bytes: try self.context.records.readModel(sha256: resume.modelSHA256))
            version = resume.round
            logger.info("continuing from model version \(version)")
        }
        var server = AsyncAggregator(mode: settings.mode, maxStaleness: settings.maxStaleness, global: global, version: version)
        let connector = NetworkSites(context: self.context, jobID: jobID, spec: spec, layout: layout)
        let names = sites.map(\.name)
        let (cid, events) = await self.context.inbox.open([:])
        var state = AsyncDispatchState()
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await self.context.inbox.postDeadline(cid)
            }
        }
        defer { ticker.cancel() }
        for site in names { try await self.dispatchAsyncTask(site, jobID: jobID, spec: spec, collection: cid, server: server, state: &state) }
        logger.info("asynchronous training (\(settings.mode), max staleness \(settings.maxStaleness)) from version \(version) to \(spec.rounds)")
        loop: for await event in events {
            switch event {
            case .update(let u, let reply):
                state.busy.remove(u.site)
                switch server.accept(u, baseVersion: u.round) {
                case .buffered:
                    reply(.accepted)
                case .applied(let applied, let training, _):
                    reply(.accepted)
                    let last = server.version >= spec.rounds
                    var evaluation: EvaluationAggregate?
                    if last {
                        // Updates still arriving are refused as late now: a site waiting for its receipt could not
                        // take the evaluation task, and the evaluation would wait for the round timeout.
                        await self.context.inbox.close(cid)
                        let (results, _) = await connector.evaluate(round: server.version, sites: names, global: server.global)
                        evaluation = EvaluationAggregate(results)
                    }
                    try await self.commitAsyncVersion(jobID, server: server, sites: applied, training: training, evaluation: evaluation, logger: logger)
                    if last { break loop }
                case .stale(let tau):
                    reply(.refused("stale", "the update was computed from a model \(tau) versions old; the job's max_staleness is \(settings.maxStaleness)"))
                    logger.info("stale update dropped", metadata: ["site": "\(u.site)", "staleness": "\(tau)"])
                case .rejected(let why):
                    reply(.refused("rejected", why))
                    self.context.records.audit("coordinator", "update.refused", ["job": .string(jobID), "site": .string(u.site), "reason": .string(why)])
                }
                try await self.dispatchAsyncTask(u.site, jobID: jobID, spec: spec, collection: cid, server: server, state: &state)
            case .failure(let f):
                state.busy.remove(f.site)
                // A site that disconnected (or restarted and lost its prepared job) prepares the job again first.
                if f.code == .dropped || f.message.contains("unprepared") { state.needsPrepare.insert(f.site) }
                logger.warning("site failed its task; it gets a new one when it is available", metadata: ["site": "\(f.site)", "reason": "\(f.message)"])
            case .deadline:
                // Sites that came back (or had no task) get one.
                for site in names where !state.busy.contains(site) { try await self.dispatchAsyncTask(site, jobID: jobID, spec: spec, collection: cid, server: server, state: &state) }
            default:
                continue
            }
            if await self.isCancelRequested(jobID) { throw CancellationError() }
        }
        await self.context.inbox.close(cid)
        return try self.context.records.modelRef(for: server.global).sha256
    }

    private func dispatchAsyncTask(
        _ site: String, jobID: String, spec: JobSpec, collection cid: UUID, server: AsyncAggregator, state: inout AsyncDispatchState
    ) async throws {
        guard await self.context.registry.isConnected(site) else { return }
        let connector = NetworkSites(context: self.context, jobID: jobID, spec: spec, layout: server.global.layout)
        if state.needsPrepare.contains(site) {
            let ready = await connector.prepare(sites: [site], logger: self.context.logger(job: jobID)).prepared
            guard !ready.isEmpty else { return }
            state.needsPrepare.remove(site)
            self.context.records.audit("coordinator", "job.site.rejoined", ["job": .string(jobID), "site": .string(site),
                                                                            "version": .int(Int64(server.version))])
        }
        if state.modelRef?.version != server.version {
            state.modelRef = (server.version, try self.context.records.modelRef(for: server.global))
        }
        state.dispatched += 1
        let taskID = "\(jobID).v\(server.version).n\(state.dispatched).\(site)"
        await self.context.inbox.add([taskID: TaskInbox.OpenTask(site: site, kind: .train, job: jobID, round: server.version, collection: cid)])
        let task = connector.task(
            id: taskID, round: server.version, kind: .train, model: state.modelRef!.ref,
            instructions: Cohort_V1_TrainInstructions(TrainInstructions(round: server.version, training: spec.training, seed: spec.seed)),
            deadline: Date().addingTimeInterval(TimeInterval(spec.roundTimeoutSeconds)))
        if await self.context.registry.send(task: task, to: site) { state.busy.insert(site) }
    }

    private func commitAsyncVersion(
        _ jobID: String, server: AsyncAggregator, sites: [String], training: [String: SiteTrainingRecord],
        evaluation: EvaluationAggregate?, logger: Logger
    ) async throws {
        let ref = try self.context.records.modelRef(for: server.global)
        let record = RoundRecord.asynchronous(version: server.version, sites: sites, training: training, evaluation: evaluation,
                                              modelSHA256: ref.sha256)
        let recordJSON = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        var metrics = [String: String]()
        for (site, m) in evaluation?.sites ?? [:] { metrics[site] = String(decoding: try JSONEncoder().encode(m), as: UTF8.self) }
        let audit = AuditEvent(actor: "coordinator", event: "round.completed", payload: [
            "job": .string(jobID), "round": .int(Int64(server.version)), "asynchronous": .bool(true),
            "aggregated": .array(sites.map { .string($0) }),
        ], contentHashes: [ref.sha256])
        try self.context.records.store.commitRound(jobID: jobID, round: server.version, modelSHA256: ref.sha256, serverStateJSON: "{}",
                                                   recordJSON: recordJSON, siteMetrics: metrics, auditEvents: [audit])
        logger.info("version \(server.version) committed from \(sites.joined(separator: ", ")), model \(ref.sha256.prefix(12))")
    }
}

/// Which sites have a task, and the stored model of the current version.
struct AsyncDispatchState {
    var busy = Set<String>()
    var dispatched = 0
    /// Sites that must prepare the job (again) before their next task.
    var needsPrepare = Set<String>()
    var modelRef: (version: Int, ref: Cohort_V1_ModelRef)?
}
