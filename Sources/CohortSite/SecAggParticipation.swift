import CohortModel
import CohortPKI
import CohortSecAgg
import CohortStrategy
import CohortWire
import Crypto
import Foundation
import Logging

/// Messages for the tasks that exchange several with the coordinator while they run (secure aggregation, private
/// set intersection), by task id. A task opens its mailbox before its first message goes out, so no answer is missed.
actor Mailbox<Envelope: Sendable> {
    private var boxes: [String: AsyncStream<Envelope>.Continuation] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    /// Tasks the coordinator cancelled before they opened their mailbox.
    private var cancelled: Set<String> = []

    /// Opens the mailbox of a task (already closed if the coordinator cancelled the task); it closes by itself
    /// after `seconds`, so a task whose peers went silent gives up.
    func open(_ taskID: String, closingAfter seconds: Double) -> AsyncStream<Envelope> {
        let (stream, continuation) = AsyncStream<Envelope>.makeStream()
        if self.cancelled.remove(taskID) != nil {
            continuation.finish()
        } else {
            self.boxes[taskID] = continuation
            self.timers[taskID] = Task {
                try? await Task.sleep(for: .seconds(max(1, seconds)))
                if !Task.isCancelled { self.close(taskID) }
            }
        }
        return stream
    }

    /// The coordinator cancelled a task: its mailbox closes now, or as soon as the task opens it.
    func cancel(_ taskID: String) {
        if self.boxes[taskID] != nil {
            self.close(taskID)
        } else if self.cancelled.count < 1024 {
            self.cancelled.insert(taskID)
        }
    }

    /// Delivers a message; returns false if no task waits for it.
    func deliver(_ envelope: Envelope, to taskID: String) -> Bool {
        guard let c = self.boxes[taskID] else { return false }
        c.yield(envelope)
        return true
    }

    func close(_ taskID: String) {
        self.timers.removeValue(forKey: taskID)?.cancel()
        self.boxes.removeValue(forKey: taskID)?.finish()
    }

    func closeAll() {
        for t in self.timers.values { t.cancel() }
        for c in self.boxes.values { c.finish() }
        self.timers.removeAll()
        self.boxes.removeAll()
    }
}

typealias SecAggMailbox = Mailbox<Cohort_V1_SecAggEnvelope>

extension SiteSession {
    /// Takes part in a round's secure aggregation with this site's (clipped, noised) update: checks the round's
    /// parameters and every participant's certificate against the project CA, then runs the SecAgg+ client state
    /// machine until it has answered the unmasking request. The update itself never leaves the site; only masked
    /// words, encrypted shares and public keys do, each recorded in the egress log.
    func trainSecurely(_ task: Cohort_V1_Task, update: SiteUpdate, settings: SecureSumSettings,
                       outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation, logger: Logger) async throws {
        let round = Int(task.round)
        let setup = task.secagg
        let configuration: SecAggConfiguration
        do { configuration = try setup.configuration(encoding: settings) } catch {
            throw SiteFailure(site: self.site, code: .refused, message: error.message)
        }
        guard configuration.participants.contains(self.site) else {
            throw SiteFailure(site: self.site, code: .refused, message: "the secure aggregation round does not list this site")
        }
        // The policy's minimum aggregate applies to what the coordinator can learn: the sum of at least `threshold`
        // sites' updates in every neighbourhood.
        guard configuration.participants.count >= self.policy.minSitesPerAggregate,
              configuration.threshold >= min(self.policy.minSitesPerAggregate, configuration.neighbourhoodSize + 1) else {
            throw SiteFailure(site: self.site, code: .refused,
                              message: "the secure aggregation round (\(configuration.participants.count) sites, threshold \(configuration.threshold)) is smaller than this site's min_sites_per_aggregate \(self.policy.minSitesPerAggregate)")
        }
        guard configuration.vectorLength == update.delta.count, update.controlDelta == nil else {
            throw SiteFailure(site: self.site, code: .failed, message: "the secure aggregation round expects \(configuration.vectorLength) values; the update has \(update.delta.count)")
        }
        let keys: [String: P256.Signing.PublicKey]
        do {
            keys = try IdentityVerifier(caCertificate: self.agent.kit.caCertificate)
                .siteSigningKeys(participants: configuration.participants, certificates: setup.certificateBytes)
        } catch {
            throw SiteFailure(site: self.site, code: .refused, message: "a participant's certificate is not valid for this project: \(error)")
        }
        var client: SecAggClient
        do {
            client = try SecAggClient(participant: self.site, configuration: configuration, input: update.delta, weight: 1,
                                      signer: P256Signer(privateKey: self.agent.kit.privateKey), verifier: P256Verifier(publicKeys: keys))
        } catch {
            throw SiteFailure(site: self.site, code: .failed, message: "secure aggregation: \(error)")
        }
        let deadline = Date(timeIntervalSince1970: Double(task.deadlineUnixMs) / 1000)
        // Each later stage may take up to the round timeout again at the coordinator; give up well after that.
        let inbox = await self.secagg.open(task.taskID, closingAfter: max(1, deadline.timeIntervalSinceNow) * 4)
        func send(_ actions: [SecAggAction]) throws(SiteFailure) {
            for action in actions {
                switch action {
                case .sendToServer(let message):
                    var envelope = Cohort_V1_SecAggEnvelope(message, taskID: task.taskID, jobID: task.jobID, round: round)
                    if case .maskedInput = message {
                        envelope.exampleCount = UInt64(update.exampleCount)
                        envelope.steps = UInt64(update.training.steps)
                        envelope.examplesSeen = UInt64(update.training.examplesSeen)
                        envelope.meanLoss = update.training.meanLoss
                    }
                    let bytes = envelope.wireBytes()
                    self.egress("secagg.\(message.stage)", job: task.jobID, round: round, bytes: bytes.count,
                                sha256: Safetensors.sha256Hex(bytes))
                    outgoing.yield(self.event { $0.secagg = envelope })
                case .abort(let e):
                    throw SiteFailure(site: self.site, code: .refused, message: "left the secure aggregation round: \(e.message)")
                default:
                    break
                }
            }
        }
        logger.info("secure aggregation round \(round): sending keys (\(configuration.participants.count) participants, threshold \(configuration.threshold))")
        do {
            try send(try client.start())
            for await envelope in inbox {
                let message = try envelope.secAggMessage(sender: "coordinator")
                try send(try client.handle(message))
                if client.isFinished { break }
            }
        } catch let f as SiteFailure {
            await self.secagg.close(task.taskID)
            throw f
        } catch let e as SecAggError {
            await self.secagg.close(task.taskID)
            throw SiteFailure(site: self.site, code: .failed, message: "secure aggregation: \(e.message)")
        } catch let e as WireError {
            await self.secagg.close(task.taskID)
            throw SiteFailure(site: self.site, code: .failed, message: "secure aggregation: \(e.message)")
        }
        await self.secagg.close(task.taskID)
        if client.isFinished {
            logger.info("secure aggregation: masked update sent and unmasking answered (\(configuration.participants.count) participants)")
        } else {
            throw SiteFailure(site: self.site, code: .dropped, message: "the secure aggregation round ended before it finished")
        }
    }
}
