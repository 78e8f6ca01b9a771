import CohortModel
import CohortPKI
import CohortRuntime
import CohortSecAgg
import CohortStore
import CohortStrategy
import CohortWire
import Crypto
import Foundation
import Logging

extension NetworkSites {
    /// A training round under secure aggregation: the coordinator relays SecAgg+ messages between the participants
    /// (on their session streams) and learns only the sum of their updates.
    ///
    /// Each stage waits for every participant still in the round, for at most the round timeout; a site whose
    /// session ends (killed, disconnected) is counted out at once, so a dead site costs no waiting. The SecAgg+
    /// server state machine recovers the sum while every neighbourhood keeps its threshold, and aborts (revealing
    /// nothing) otherwise.
    func trainSecurely<A: UpdateAggregator>(
        _ plan: RoundPlan, settings: SecureSumSettings, model ref: Cohort_V1_ModelRef, instructions: Cohort_V1_TrainInstructions,
        global: ModelParameters, aggregator: inout A, logger: Logger
    ) async -> [SiteFailure] {
        guard var secure = aggregator as? any SecureSumAggregator else {
            return plan.participants.map { SiteFailure(site: $0, code: .failed, message: "the job's strategy cannot take a secure sum") }
        }
        var failures = [SiteFailure]()
        var participants = [String]()
        var certificates = [[UInt8]]()
        for site in plan.participants.sorted() {
            if await self.context.registry.isConnected(site), let der = await self.context.registry.certificate(of: site) {
                participants.append(site)
                certificates.append(der)
            } else {
                failures.append(SiteFailure(site: site, code: .dropped, message: "not connected"))
            }
        }
        let configuration: SecAggConfiguration
        let server: SecAggServer
        do {
            configuration = try SecureRound.configuration(
                participants: participants, vectorLength: global.count, settings: settings, seed: plan.instructions.seed,
                round: plan.round, session: "\(self.jobID)/r\(plan.round)/\(UUID().uuidString)")
            let keys = try self.context.verifier.siteSigningKeys(participants: participants, certificates: certificates)
            server = try SecAggServer(configuration: configuration, verifier: P256Verifier(publicKeys: keys))
        } catch {
            logger.error("secure aggregation cannot start: \(error)")
            self.context.records.audit("coordinator", "secagg.failed", ["job": .string(self.jobID), "round": .int(Int64(plan.round)),
                                                                        "reason": .string("\(error)")])
            return failures + participants.map { SiteFailure(site: $0, code: .failed, message: "secure aggregation cannot start: \(error)") }
        }
        let setup = Cohort_V1_SecAggSetup(configuration, certificates: certificates)
        let timeout = self.spec.roundTimeoutSeconds
        let d = await self.dispatch(round: plan.round, kind: .train, sites: participants, model: ref, instructions: instructions,
                                    deadline: Date().addingTimeInterval(TimeInterval(timeout)), customize: { $0.secagg = setup })
        failures += d.failures
        var relay = SecAggRelay(server: server, expected: d.pending, gone: Set(d.failures.map(\.site)))
        let outcome: SecAggRelay.Outcome? = await withTaskGroup(of: Void.self) { group in
            let cid = d.collection
            func arm(_ stage: Int) {
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    await self.context.inbox.post(cid, .stageTimeout(stage))
                }
            }
            arm(0)
            var result: SecAggRelay.Outcome?
            func deliver(_ sends: [(String, SecAggMessage)]) async {
                for (site, message) in sends {
                    guard let taskID = d.taskIDs[site] else { continue }
                    var event = Cohort_V1_CoordinatorEvent()
                    event.protocol = WireProtocol.version
                    event.secagg = Cohort_V1_SecAggEnvelope(message, taskID: taskID, jobID: self.jobID, round: plan.round)
                    if !(await self.context.registry.send(event, to: site)) { relay.markGone(site, reason: "not connected") }
                }
            }
            for await event in d.events {
                let step: SecAggRelay.Step
                switch event {
                case .secagg(let site, let message, let training):
                    step = relay.receive(message, from: site, training: training, logger: logger)
                case .failure(let f):
                    logger.warning("site left the secure aggregation round", metadata: ["site": "\(f.site)", "reason": "\(f.message)"])
                    step = relay.markGone(f.site, reason: f.message)
                case .stageTimeout(let stage):
                    guard stage == relay.stageNumber else { continue }
                    logger.warning("secure aggregation stage \(stage) timed out after \(timeout) s")
                    step = relay.closeStage()
                default:
                    continue
                }
                await deliver(step.sends)
                if step.stageAdvanced { arm(relay.stageNumber) }
                // Sends that found a site gone may leave only gone sites to wait for.
                let more = relay.closeIfOnlyGoneRemain()
                await deliver(more.sends)
                if more.stageAdvanced { arm(relay.stageNumber) }
                if let o = relay.outcome {
                    result = o
                    break
                }
            }
            group.cancelAll()
            return result
        }
        await self.context.inbox.close(d.collection)
        switch outcome {
        case .success(let r)?:
            let sum = SecureRound.secureSum(r, configuration: configuration, training: relay.training)
            do throws(SiteFailure) {
                try secure.acceptSecureSum(sum)
                aggregator = secure as! A
            } catch {
                failures.append(error)
            }
            for site in participants where !r.survivors.contains(site) {
                failures.append(SiteFailure(site: site, code: .dropped,
                                            message: "left the secure aggregation round: \(relay.goneReasons[site] ?? "no answer")"))
            }
            self.context.records.audit("coordinator", "secagg.completed", [
                "job": .string(self.jobID), "round": .int(Int64(plan.round)), "survivors": .int(Int64(r.survivors.count)),
                "dropped": .string(r.dropped.sorted().joined(separator: ",")),
            ])
            logger.info("secure aggregation recovered the sum of \(r.survivors.count) sites (\(r.dropped.count) dropped)")
        case .failure(let e)?:
            self.context.records.audit("coordinator", "secagg.aborted", ["job": .string(self.jobID), "round": .int(Int64(plan.round)),
                                                                         "reason": .string(e.message)])
            logger.error("secure aggregation aborted: \(e.message)")
            failures += participants.map { SiteFailure(site: $0, code: .failed, message: "secure aggregation aborted: \(e.message)") }
        case nil:
            failures += participants.map { SiteFailure(site: $0, code: .dropped, message: "the secure aggregation round did not finish") }
        }
        return failures
    }
}

/// The coordinator's bookkeeping around the SecAgg+ server state machine: who is expected in the current stage,
/// who answered, who is gone, and the training reports that came with the masked inputs.
struct SecAggRelay {
    enum Outcome {
        case success(SecAggResult)
        case failure(SecAggError)
    }

    struct Step {
        var sends: [(String, SecAggMessage)] = []
        var stageAdvanced = false
    }

    var server: SecAggServer
    /// Sites the current stage waits for.
    var expected: Set<String>
    var answered: Set<String> = []
    var gone: Set<String>
    var goneReasons: [String: String] = [:]
    var training: [String: SiteTrainingRecord] = [:]
    /// Counts the stages (for matching timeouts to the stage that armed them).
    var stageNumber = 0
    var outcome: Outcome?

    init(server: SecAggServer, expected: Set<String>, gone: Set<String>) {
        self.server = server
        self.expected = expected
        self.gone = gone
    }

    mutating func receive(_ message: SecAggMessage, from site: String, training: SiteTrainingRecord?, logger: Logger) -> Step {
        do throws(SecAggError) {
            let actions = try self.server.handle(message)
            self.answered.insert(site)
            if let training { self.training[site] = training }
            return self.apply(actions)
        } catch {
            logger.warning("secure aggregation message refused", metadata: ["site": "\(site)", "reason": "\(error.message)"])
            return Step()
        }
    }

    @discardableResult
    mutating func markGone(_ site: String, reason: String) -> Step {
        self.gone.insert(site)
        if self.goneReasons[site] == nil { self.goneReasons[site] = reason }
        return self.closeIfOnlyGoneRemain()
    }

    mutating func closeIfOnlyGoneRemain() -> Step {
        guard self.outcome == nil, self.server.stage != nil, self.expected.subtracting(self.answered).isSubset(of: self.gone) else { return Step() }
        return self.closeStage()
    }

    mutating func closeStage() -> Step {
        self.apply(self.server.closeStage())
    }

    private mutating func apply(_ actions: [SecAggAction]) -> Step {
        var step = Step()
        for action in actions {
            switch action {
            case .send(let to, let message): step.sends.append((to, message))
            case .result(let r): self.outcome = .success(r)
            case .abort(let e): self.outcome = .failure(e)
            case .sendToServer: break
            }
        }
        if !step.sends.isEmpty || self.outcome != nil {
            // The server answered a stage: the recipients are the next stage's participants.
            self.stageNumber += 1
            self.expected = Set(step.sends.map(\.0))
            self.answered = []
            step.stageAdvanced = true
        }
        return step
    }
}
