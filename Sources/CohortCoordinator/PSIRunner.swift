import CohortAnalytics
import CohortModel
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
import Foundation
import GRPCCore
import Logging

/// Runs a private set intersection over the network: sends each party a PSI task, then relays the parties'
/// messages through ``PSIRelay`` (addresses and parameters checked, payloads never opened) until the receiver
/// releases the cardinality.
///
/// Everything the coordinator relayed is written, as received, to `psi/<session>.jsonl` in its state directory:
/// the coordinator's whole view of the run, for the operator to inspect (it holds no identifier and no hash of one).
struct PSIRunner {
    let context: CoordinatorContext

    struct Outcome {
        var report: PSIRelayReport
        var failures: [SiteFailure]
    }

    func run(parameters: PSIParameters, schemaYAML: String, column: String?, timeoutSeconds: Int, admin: String) async throws -> Outcome {
        var relay = try PSIRelay(parameters: parameters)
        let id = "psi-" + parameters.session.prefix(8).lowercased()
        let logger = self.context.logger(job: id)
        let parametersJSON = try WireJSON.encoder().encode(parameters)
        self.context.records.audit(admin, "psi.submitted", ["psi": .string(id), "session": .string(parameters.session),
                                                            "parties": .array(parameters.parties.map { .string($0) }),
                                                            "receiver": .string(parameters.receiver), "output": .string(parameters.output.rawValue),
                                                            "channel": .string(parameters.channel.rawValue)])

        // Each party's certificate, so the parties can check each other's signed channel keys against the CA.
        var certificates = [Data]()
        for party in parameters.parties {
            guard let der = await self.context.registry.certificate(of: party) else {
                throw RPCError(code: .failedPrecondition, message: "site \(party) disconnected before the intersection began")
            }
            certificates.append(Data(der))
        }
        var spec = JobSpec(name: id, schemaYAML: schemaYAML)
        spec.roundTimeoutSeconds = timeoutSeconds
        let connector = NetworkSites(context: self.context, jobID: id, spec: spec, layout: ParameterLayout([]))
        let dispatch = await connector.dispatch(round: 0, kind: .psi, sites: parameters.parties, model: nil, instructions: nil,
                                                deadline: Date().addingTimeInterval(TimeInterval(timeoutSeconds))) { task in
            task.psiParameters = parametersJSON
            task.psiColumn = column ?? ""
            task.schemaYaml = schemaYAML
            task.psiCertificates = certificates
        }
        var failures = dispatch.failures
        var transcript = [PSIMessage]()
        var transcriptLines = Data()  // every relayed message as it arrived, one JSON line each
        // A party's messages are held until it has started (sent its own first message), so none reaches a site
        // before its PSI task has opened a mailbox for it.
        var started = Set<String>()
        var held = [String: [Cohort_V1_CoordinatorEvent]]()
        /// The message as the recipient gets it: the sender's JSON and signature, unchanged, under its own task.
        func envelope(to party: String, from received: Cohort_V1_PSIEnvelope) -> Cohort_V1_CoordinatorEvent {
            var envelope = received
            envelope.taskID = dispatch.taskIDs[party] ?? ""
            var event = Cohort_V1_CoordinatorEvent()
            event.protocol = WireProtocol.version
            event.psi = envelope
            return event
        }
        // In order: a party's channel key must reach a peer before the sets sealed under it.
        func forward(_ event: Cohort_V1_CoordinatorEvent, to party: String) async {
            _ = await self.context.registry.send(event, to: party)
        }
        if failures.isEmpty {
            let timeout = Duration.seconds(timeoutSeconds)
            let cid = dispatch.collection
            let deadline = Task { [inbox = self.context.inbox] in
                try? await Task.sleep(for: timeout)
                await inbox.postDeadline(cid)
            }
            defer { deadline.cancel() }
            loop: for await event in dispatch.events {
                switch event {
                case .psi(let site, let message, let received):
                    transcript.append(message)
                    transcriptLines.append(received.message)
                    transcriptLines.append(0x0A)
                    if !started.contains(site) {
                        started.insert(site)
                        for event in held.removeValue(forKey: site) ?? [] { await forward(event, to: site) }
                    }
                    do {
                        switch try relay.relay(message) {
                        case .deliver(let m):
                            let event = envelope(to: m.to, from: received)
                            if started.contains(m.to) { await forward(event, to: m.to) } else { held[m.to, default: []].append(event) }
                        case .released(let n):
                            logger.info("the receiver released the cardinality: \(n)")
                            break loop
                        }
                    } catch {
                        failures.append(SiteFailure(site: site, code: .rejected, message: "\(error)"))
                        break loop
                    }
                case .failure(let f):
                    failures.append(f)
                    break loop
                case .deadline:
                    let silent = parameters.parties.filter { !started.contains($0) }
                    failures.append(SiteFailure(site: silent.first ?? parameters.receiver, code: .dropped,
                                                message: "the intersection did not finish within \(timeoutSeconds) s"
                                                    + (silent.isEmpty ? "" : "; never started: \(silent.joined(separator: ", "))")))
                    break loop
                default:
                    continue
                }
            }
        }
        await self.context.inbox.close(dispatch.collection)
        if relay.cardinality == nil {
            // Parties still waiting for messages stop now rather than at their deadline.
            for party in parameters.parties {
                var cancel = Cohort_V1_CancelTask()
                cancel.taskID = dispatch.taskIDs[party] ?? ""
                cancel.jobID = id
                cancel.reason = failures.first.map { "\($0.site): \($0.message)" } ?? "the intersection failed"
                var event = Cohort_V1_CoordinatorEvent()
                event.protocol = WireProtocol.version
                event.cancel = cancel
                _ = await self.context.registry.send(event, to: party)
            }
        }
        let report = PSIRelayReport(parameters: parameters, transcript: transcript, released: relay.cardinality)
        var payload: [String: LogValue] = ["psi": .string(id), "messages_relayed": .int(Int64(report.messagesRelayed)),
                                           "payload_bytes": .int(Int64(report.payloadBytes)),
                                           "failed": .array(failures.map { .string("\($0.site): \($0.message)") })]
        if let n = relay.cardinality { payload["cardinality"] = .int(Int64(n)) }
        let transcriptURL = self.context.records.store.directory.appendingPathComponent("psi/\(parameters.session).jsonl")
        try FileManager.default.createDirectory(at: transcriptURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try transcriptLines.write(to: transcriptURL, options: .atomic)
        let transcriptHash = Safetensors.sha256Hex(transcriptLines)
        self.context.records.audit("coordinator", relay.cardinality == nil ? "psi.failed" : "psi.completed", payload,
                                   hashes: [transcriptHash])
        return Outcome(report: report, failures: failures)
    }
}
