import CohortModel
import CohortRuntime
import CohortStrategy
import CohortWire
import Foundation
import Logging

/// The coordinator's ``SiteConnector``: tasks go out on the sites' control streams, results come back on RPCs
/// through the ``TaskInbox``.
///
/// A round waits for every participant until the round deadline. At the deadline, a round that is still receiving
/// an upload (bytes arrived within the stall timeout) waits on, one stall timeout at a time, so a large update on a
/// slow line is not cut off by a fixed clock; the rest are recorded as dropped. Results that arrive after the round
/// closed are refused as late by the inbox.
struct NetworkSites: SiteConnector {
    let context: CoordinatorContext
    let jobID: String
    let spec: JobSpec
    let layout: ParameterLayout

    func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        let logger = self.context.logger(job: self.jobID, round: plan.round)
        let ref: Cohort_V1_ModelRef
        do { ref = try self.context.records.modelRef(for: global) } catch {
            logger.error("cannot store the round's model: \(error)")
            return plan.participants.map { SiteFailure(site: $0, code: .failed, message: "coordinator could not store the model") }
        }
        let instructions = Cohort_V1_TrainInstructions(plan.instructions)
        var controlRef: Cohort_V1_ModelRef?
        if let c = plan.instructions.serverControl {
            do { controlRef = try self.context.records.modelRef(for: ModelParameters(layout: self.layout, flat: c)) } catch {
                logger.error("cannot store the control variate: \(error)")
                return plan.participants.map { SiteFailure(site: $0, code: .failed, message: "coordinator could not store the control variate") }
            }
        }
        if let settings = plan.instructions.secureSum {
            return await self.trainSecurely(plan, settings: settings, model: ref, instructions: instructions, global: global,
                                            aggregator: &aggregator, logger: logger)
        }
        let outcome = await self.collect(round: plan.round, kind: .train, sites: plan.participants, model: ref,
                                         instructions: instructions, logger: logger, customize: { task in
            if let controlRef { task.control = controlRef }
        }) { event, failures in
            guard case .update(let update, let reply) = event else { return false }
            do throws(SiteFailure) {
                try aggregator.accept(update)
                reply(.accepted)
            } catch {
                failures.append(error)
                reply(.refused(error.code.rawValue, error.message))
                logger.warning("update refused", metadata: ["site": "\(update.site)", "reason": "\(error.message)"])
            }
            return true
        }
        return outcome.failures
    }

    func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        let logger = self.context.logger(job: self.jobID, round: round)
        guard let ref = try? self.context.records.modelRef(for: global) else { return ([], []) }
        var results = [SiteEvaluation]()
        let outcome = await self.collect(round: round, kind: .evaluate, sites: sites, model: ref, instructions: nil, logger: logger) { event, _ in
            guard case .evaluation(let e) = event else { return false }
            results.append(e)
            return true
        }
        return (results, outcome.failures)
    }

    /// Sends PREPARE tasks (the job, and the global statistics when it standardises globally); returns the sites
    /// that accepted, with their training counts (and test counts), and those that did not.
    func prepare(sites: [String], globalStatistics: Data = Data(), timeoutSeconds: Int? = nil,
                 logger: Logger) async -> (prepared: [SiteInfo], testCounts: [String: Int], failures: [SiteFailure]) {
        let jobMessage = Cohort_V1_JobSpec(self.spec)
        var prepared = [SiteInfo]()
        var tests = [String: Int]()
        let outcome = await self.collect(round: 0, kind: .prepare, sites: sites, model: nil, instructions: nil, logger: logger,
                                         timeoutSeconds: timeoutSeconds ?? max(60, self.spec.roundTimeoutSeconds)) { task in
            task.job = jobMessage
            task.globalStatistics = globalStatistics
        } handle: { event, _ in
            guard case .prepared(let site, let train, let test) = event else { return false }
            prepared.append(SiteInfo(name: site, trainCount: train))
            tests[site] = test
            return true
        }
        return (prepared, tests, outcome.failures)
    }

    static func name(of kind: Cohort_V1_TaskKind) -> String {
        switch kind {
        case .prepare: "prepare"
        case .train: "train"
        case .evaluate: "eval"
        case .finish: "finish"
        case .statistics: "stats"
        case .psi: "psi"
        default: "task"
        }
    }

    struct Outcome {
        var failures: [SiteFailure]
    }

    /// Tasks sent to sites, and the collection their results arrive in.
    struct Dispatch {
        var collection: UUID
        var events: AsyncStream<TaskInbox.Event>
        var taskIDs: [String: String]
        var pending: Set<String>
        var failures: [SiteFailure]
    }

    /// Opens a collection and sends one task per site (sites that are not connected fail as dropped).
    func dispatch(
        round: Int, kind: Cohort_V1_TaskKind, sites: [String], model: Cohort_V1_ModelRef?,
        instructions: Cohort_V1_TrainInstructions?, deadline: Date, customize: (inout Cohort_V1_Task) -> Void
    ) async -> Dispatch {
        let collection = UUID()
        var taskIDs = [String: String]()  // site -> task id
        var open = [String: TaskInbox.OpenTask]()
        for site in sites {
            let id = "\(self.jobID).r\(round).\(Self.name(of: kind)).\(site)"
            taskIDs[site] = id
            open[id] = TaskInbox.OpenTask(site: site, kind: kind, job: self.jobID, round: round, collection: collection)
        }
        let (cid, stream) = await self.context.inbox.open(open)
        var failures = [SiteFailure]()
        var pending = Set<String>()
        for site in sites {
            var task = self.task(id: taskIDs[site]!, round: round, kind: kind, model: model, instructions: instructions, deadline: deadline)
            customize(&task)
            if await self.context.registry.send(task: task, to: site) {
                pending.insert(site)
            } else {
                failures.append(SiteFailure(site: site, code: .dropped, message: "not connected"))
            }
        }
        return Dispatch(collection: cid, events: stream, taskIDs: taskIDs, pending: pending, failures: failures)
    }

    /// A task of this job.
    func task(id: String, round: Int, kind: Cohort_V1_TaskKind, model: Cohort_V1_ModelRef?,
              instructions: Cohort_V1_TrainInstructions?, deadline: Date) -> Cohort_V1_Task {
        var task = Cohort_V1_Task()
        task.taskID = id
        task.jobID = self.jobID
        task.round = UInt32(round)
        task.kind = kind
        if let model { task.model = model }
        if let instructions { task.instructions = instructions }
        task.deadlineUnixMs = UInt64(deadline.timeIntervalSince1970 * 1000)
        return task
    }

    /// Sends one task per site and feeds arriving events to `handle` until every site answered or the deadline.
    func collect(
        round: Int, kind: Cohort_V1_TaskKind, sites: [String], model: Cohort_V1_ModelRef?,
        instructions: Cohort_V1_TrainInstructions?, logger: Logger, timeoutSeconds: Int? = nil,
        customize: (inout Cohort_V1_Task) -> Void = { _ in },
        handle: (TaskInbox.Event, inout [SiteFailure]) -> Bool
    ) async -> Outcome {
        let timeout = timeoutSeconds ?? self.spec.roundTimeoutSeconds
        let d = await self.dispatch(round: round, kind: kind, sites: sites, model: model, instructions: instructions,
                                    deadline: Date().addingTimeInterval(TimeInterval(timeout)), customize: customize)
        let cid = d.collection
        let stream = d.events
        var failures = d.failures
        var pending = d.pending
        guard !pending.isEmpty else {
            await self.context.inbox.close(cid)
            return Outcome(failures: failures)
        }
        let roundTimeout = Duration.seconds(timeout)
        let stall = Duration.seconds(self.context.config.stallTimeoutSeconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: roundTimeout)
                await self.context.inbox.postDeadline(cid)
            }
            for await event in stream {
                switch event {
                case .failure(let f):
                    guard pending.remove(f.site) != nil else { continue }
                    failures.append(f)
                    logger.warning("site failed the task", metadata: ["site": "\(f.site)", "code": "\(f.code)", "reason": "\(f.message)"])
                case .deadline:
                    if let last = await self.context.inbox.latestProgress(cid),
                       Date().timeIntervalSince(last) < Double(self.context.config.stallTimeoutSeconds) {
                        logger.info("round deadline reached while an upload is still progressing; waiting on")
                        group.addTask {
                            try? await Task.sleep(for: stall)
                            await self.context.inbox.postDeadline(cid)
                        }
                        continue
                    }
                    for site in pending.sorted() {
                        failures.append(SiteFailure(site: site, code: .dropped,
                                                    message: "no answer within the deadline of \(timeout) s"))
                    }
                    pending.removeAll()
                default:
                    let site: String
                    switch event {
                    case .update(let u, _): site = u.site
                    case .evaluation(let e): site = e.site
                    case .prepared(let s, _, _): site = s
                    case .statistics(let s, _): site = s
                    default: continue
                    }
                    guard pending.remove(site) != nil else { continue }
                    _ = handle(event, &failures)
                }
                if pending.isEmpty { break }
            }
            group.cancelAll()
        }
        await self.context.inbox.close(cid)
        return Outcome(failures: failures)
    }
}

extension CoordinatorContext {
    /// Tells sites (all connected ones when `sites` is empty) that a job ended, so they free what they prepared.
    func announceEnd(_ jobID: String, sites: [String], status: String) async {
        let targets = sites.isEmpty ? await self.registry.connected : sites
        for site in targets {
            var task = Cohort_V1_Task()
            task.taskID = "\(jobID).finish.\(site)"
            task.jobID = jobID
            task.kind = .finish
            task.jobStatus = status
            await self.registry.send(task: task, to: site)
        }
    }
}
