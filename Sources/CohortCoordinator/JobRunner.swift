import CohortAnalytics
import CohortData
import CohortModel
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
import Foundation
import Logging

/// Runs jobs one at a time, in submission order, and resumes interrupted jobs after a restart.
///
/// A job first asks its sites to prepare (each checks the job against its policy and validates its data against
/// the job's schema), then runs rounds with the shared ``FederatedController``. After every round the new model,
/// the strategy's state, the round's metrics and its audit entries are committed in one transaction before the next
/// round starts; after a crash the job continues from the last committed round.
actor JobRunner {
    let context: CoordinatorContext
    private var woken = false
    private var cancelRequests: Set<String> = []
    private(set) var current: String?

    init(context: CoordinatorContext) {
        self.context = context
    }

    /// Wakes the runner (a job was submitted).
    func notify() { self.woken = true }

    /// Asks a running job to stop after its current round; queued jobs are cancelled at once.
    func cancel(_ jobID: String) { self.cancelRequests.insert(jobID) }

    func isCancelRequested(_ jobID: String) -> Bool { self.cancelRequests.contains(jobID) }

    /// Processes jobs until cancelled.
    func run() async {
        // Jobs that were running when the coordinator stopped continue first.
        while !Task.isCancelled {
            let next: JobRow?
            do {
                next = try self.context.records.store.jobs(status: .running).first ?? self.context.records.store.jobs(status: .queued).first
            } catch {
                self.context.baseLogger.error("cannot read the job queue: \(error)")
                next = nil
            }
            if let job = next {
                if self.cancelRequests.contains(job.id) {
                    self.finish(job.id, status: .cancelled, message: "cancelled before it started", finalSHA: nil)
                    continue
                }
                self.current = job.id
                await self.execute(job)
                self.current = nil
                continue
            }
            // Idle: look at the queue again soon, at once after a submission.
            for _ in 0..<20 where !self.woken && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
            }
            self.woken = false
        }
    }

    struct JobFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    private func execute(_ job: JobRow) async {
        let logger = self.context.logger(job: job.id)
        let spec: JobSpec
        do { spec = try self.context.records.spec(of: job) } catch {
            self.finish(job.id, status: .failed, message: "stored job definition is unreadable: \(error)", finalSHA: nil)
            return
        }
        if job.status != .running {
            do { try self.context.records.store.updateJobStatus(id: job.id, status: .running, message: nil, finalModelSHA256: nil) } catch {
                logger.error("cannot mark the job running: \(error)")
            }
            self.context.records.audit("coordinator", "job.started", ["job": .string(job.id), "name": .string(spec.name)])
        } else {
            self.context.records.audit("coordinator", "job.resumed", ["job": .string(job.id), "rounds_completed": .int(Int64(job.roundsCompleted))])
            logger.info("resuming after round \(job.roundsCompleted)")
        }
        do {
            let sites = try await self.prepare(job.id, spec, logger: logger)
            // Robust rules' initialisers trap on impossible parameters: check them against the sites that joined.
            do throws(StrategySpecError) { try spec.strategy.validate(siteCount: sites.count) } catch {
                throw JobFailure(message: "strategy \(spec.strategy.name): \(error.description)")
            }
            if let settings = spec.asynchronous {
                let finalSHA = try await self.asyncRounds(job: job.id, spec: spec, settings: settings, sites: sites, logger: logger)
                self.finish(job.id, status: .finished, message: nil, finalSHA: finalSHA, privacy: nil)
                await self.context.announceEnd(job.id, sites: sites.map(\.name), status: "finished")
                return
            }
            let (finalSHA, privacy) = try await StrategyOpener.open(
                spec.strategy, privacy: spec.runSettings.privacy, noiseSites: spec.minimumSites, noise: .secure,
                visitor: RoundsVisitor(runner: self, job: job.id, spec: spec, sites: sites, logger: logger))
            if let privacy { logger.info("privacy spent: epsilon \(privacy.epsilon) at delta \(privacy.delta) (\(privacy.unit)-level)") }
            self.finish(job.id, status: .finished, message: nil, finalSHA: finalSHA, privacy: privacy)
            await self.context.announceEnd(job.id, sites: sites.map(\.name), status: "finished")
        } catch is CancellationError {
            if Task.isCancelled { return }  // the coordinator is shutting down: the job resumes on restart
            self.finish(job.id, status: .cancelled, message: "cancelled by an admin", finalSHA: nil)
            await self.context.announceEnd(job.id, sites: spec.sites, status: "cancelled")
        } catch {
            logger.error("job failed: \(error)")
            self.finish(job.id, status: .failed, message: "\(error)", finalSHA: nil)
            await self.context.announceEnd(job.id, sites: spec.sites, status: "failed")
        }
    }

    private func finish(_ id: String, status: JobStatus, message: String?, finalSHA: String?, privacy: PrivacyStatus? = nil) {
        do { try self.context.records.store.updateJobStatus(id: id, status: status, message: message, finalModelSHA256: finalSHA) } catch {
            self.context.baseLogger.error("cannot record the end of job \(id): \(error)")
        }
        var payload: [String: LogValue] = ["job": .string(id), "status": .string(status.rawValue)]
        if let message { payload["message"] = .string(message) }
        if let privacy {
            payload["epsilon"] = .double(privacy.epsilon)
            payload["delta"] = .double(privacy.delta)
            payload["privacy_unit"] = .string(privacy.unit)
        }
        self.context.records.audit("coordinator", "job.\(status.rawValue)", payload, hashes: finalSHA.map { [$0] } ?? [])
        self.cancelRequests.remove(id)
    }

    /// Asks the job's sites to check the job and their data; returns the sites that can take part.
    private func prepare(_ jobID: String, _ spec: JobSpec, logger: Logger) async throws -> [SiteInfo] {
        let named = Set(spec.sites)
        let minimum = spec.minimumSites
        logger.info(named.isEmpty ? "waiting for \(minimum) sites" : "waiting for sites \(spec.sites.sorted().joined(separator: ", "))")
        let connected = await self.context.registry.wait(timeout: .seconds(spec.waitForSitesSeconds)) { sites in
            named.isEmpty ? sites.count >= minimum : named.isSubset(of: Set(sites))
        }
        var candidates = named.isEmpty ? connected : spec.sites.filter(connected.contains).sorted()
        var unable = [SiteFailure]()
        if let codec = spec.compression {
            // Negotiated at hello: a site that cannot send the job's encoding is not asked.
            for site in candidates {
                if let gap = WireProtocol.codecGap(codec, advertised: await self.context.registry.codecs(of: site)) {
                    unable.append(SiteFailure(site: site, code: .refused, message: gap))
                }
            }
            candidates.removeAll { s in unable.contains { $0.site == s } }
        }
        guard candidates.count >= minimum else {
            let missing = spec.sites.filter { !connected.contains($0) }
            throw JobFailure(message: "only \(candidates.count) of the \(minimum) required sites connected within \(spec.waitForSitesSeconds) s"
                + (missing.isEmpty ? "" : "; not connected: \(missing.joined(separator: ", "))"))
        }
        let layout = try spec.modelSpec().layout
        let connector = NetworkSites(context: self.context, jobID: jobID, spec: spec, layout: layout)
        let globalStatistics = spec.standardize == .global
            ? try await self.globalStatistics(jobID, spec, sites: candidates, logger: logger) : Data()
        let (prepared, _, failures) = await connector.prepare(sites: candidates, globalStatistics: globalStatistics, logger: logger)
        let refusals = unable + failures
        for f in refusals { logger.warning("site did not join", metadata: ["site": "\(f.site)", "reason": "\(f.message)"]) }
        guard prepared.count >= minimum else {
            let reasons = refusals.sorted { $0.site < $1.site }.map { "\($0.site): \($0.message)" }.joined(separator: "; ")
            throw JobFailure(message: "only \(prepared.count) of the \(minimum) required sites accepted the job. \(reasons)")
        }
        self.context.records.audit("coordinator", "job.sites", ["job": .string(jobID),
                                                                "sites": .array(prepared.map { .string($0.name) }.sorted { "\($0)" < "\($1)" }),
                                                                "refused": .array(refusals.map { .string("\($0.site): \($0.message)") })])
        return prepared.sorted { $0.name < $1.name }
    }

    /// `standardize: global`: the federation's feature means and standard deviations from a federated statistics
    /// query to the job's sites (each answers under its own disclosure control); every site then encodes with them.
    private func globalStatistics(_ jobID: String, _ spec: JobSpec, sites: [String], logger: Logger) async throws -> Data {
        let schema = try spec.schema()
        let outcome = try await QueryRunner(context: self.context).run(
            query: FederatedStandardization.query(schema: schema), schema: schema, schemaYAML: spec.schemaYAML, sites: sites,
            timeoutSeconds: max(60, spec.roundTimeoutSeconds), admin: "coordinator", job: spec)
        if let r = outcome.result.refusals.first {
            throw JobFailure(message: "global standardisation needs every site's feature statistics; \(r.site) refused: \(r.refusal) (allow statistics in its site.yaml, or use standardize: per-site)")
        }
        if let f = outcome.failures.first {
            throw JobFailure(message: "global standardisation needs every site's feature statistics; \(f.site) did not answer: \(f.message)")
        }
        let converted = FederatedStandardization.convert(outcome.result, schema: schema)
        for (column, excluded) in converted.incomplete.sorted(by: { $0.key < $1.key }) {
            // Disclosure control withheld a column at some sites: its statistics come from the others, as in simulation.
            logger.warning("global standardisation: '\(column)' from the sites other than \(excluded.joined(separator: ", ")) (withheld there by disclosure control)")
        }
        let data = try WireJSON.encoder().encode(converted.statistics)
        // Kept with the job, so a downloaded model's card records the statistics its inputs are standardised with.
        try self.context.records.saveStandardization(data, job: jobID)
        self.context.records.audit("coordinator", "job.standardization", ["job": .string(jobID), "query": .string(outcome.id),
                                                                          "sites": .array(sites.map { .string($0) }),
                                                                          "withheld": .array(converted.incomplete.keys.sorted().map { .string("\($0): \(converted.incomplete[$0]!.joined(separator: ","))") })],
                                   hashes: [Safetensors.sha256Hex([UInt8](data))])
        logger.info("global standardisation statistics from \(outcome.result.sites.count) sites")
        return data
    }

    struct RoundsVisitor: StrategyVisitor {
        let runner: JobRunner
        let job: String
        let spec: JobSpec
        let sites: [SiteInfo]
        let logger: Logger
        func visit<S: Strategy>(_ strategy: S) async throws -> (String, PrivacyStatus?) {
            try await self.runner.rounds(strategy, job: self.job, spec: self.spec, sites: self.sites, logger: self.logger)
        }
    }

    /// Runs (or resumes) the rounds of a job with a concrete strategy; returns the final model's SHA-256 and the
    /// privacy spent (with differential privacy).
    func rounds<S: Strategy>(_ strategy: S, job jobID: String, spec: JobSpec, sites: [SiteInfo], logger: Logger) async throws -> (String, PrivacyStatus?) {
        let layout = try spec.modelSpec().layout
        let controller = FederatedController(strategy: strategy, settings: spec.runSettings)
        var checkpoint: RunCheckpoint<S.ServerState>
        if let resume = try self.context.records.store.lastCompletedRound(jobID: jobID) {
            let bytes = try self.context.records.readModel(sha256: resume.modelSHA256)
            let global = try ModelParameters(layout: layout, bytes: bytes)
            let state = try JSONDecoder().decode(S.ServerState.self, from: Data(resume.serverStateJSON.utf8))
            checkpoint = RunCheckpoint(round: resume.round, global: global, state: state)
            logger.info("continuing from round \(resume.round), model \(resume.modelSHA256.prefix(12))")
        } else {
            checkpoint = controller.start(from: try spec.initialModel())
        }
        let connector = NetworkSites(context: self.context, jobID: jobID, spec: spec, layout: layout)
        // Availability-aware selection continues from the stored rounds' history.
        var history = SelectionHistory()
        for row in try self.context.records.store.rounds(jobID: jobID) where row.round <= checkpoint.round {
            let record = try JSONDecoder().decode(RoundRecord.self, from: Data(row.recordJSON.utf8))
            history.record(participants: record.participants, aggregated: record.aggregated)
        }
        let (_, final) = try await controller.run(from: checkpoint, sites: sites, connector: connector, history: history) { record, next in
            let ref = try self.context.records.modelRef(for: next.global, knownSHA256: record.modelSHA256)
            let stateJSON = String(decoding: try JSONEncoder().encode(next.state), as: UTF8.self)
            let recordJSON = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            var metrics = [String: String]()
            for (site, m) in record.evaluation?.sites ?? [:] {
                metrics[site] = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
            }
            var payload: [String: LogValue] = [
                "job": .string(jobID), "round": .int(Int64(record.round)),
                "participants": .array(record.participants.map { .string($0) }),
                "aggregated": .array(record.aggregated.map { .string($0) }),
                "failures": .array(record.failures.map { .string("\($0.site): \($0.code): \($0.message)") }),
                "applied": .bool(record.applied),
            ]
            if let p = record.privacy {
                payload["epsilon"] = .double(p.epsilon)
                payload["delta"] = .double(p.delta)
            }
            let audit = AuditEvent(actor: "coordinator", event: "round.completed", payload: payload, contentHashes: [ref.sha256])
            try self.context.records.store.commitRound(
                jobID: jobID, round: record.round, modelSHA256: ref.sha256, serverStateJSON: stateJSON, recordJSON: recordJSON,
                siteMetrics: metrics, auditEvents: [audit])
            let g = record.evaluation?.global
            logger.info("round \(record.round) committed: \(record.aggregated.count)/\(record.participants.count) sites, auc \(g?.auc.map { String(format: "%.4f", $0) } ?? "-"), model \(ref.sha256.prefix(12))")
            if await self.isCancelRequested(jobID) { throw CancellationError() }
        }
        let sha = try self.context.records.modelRef(for: final.global).sha256
        return (sha, controller.privacyTracker(sites: sites)?.status(afterRounds: final.round))
    }
}
