import CohortAnalytics
import CohortData
import CohortModel
import CohortPKI
import CohortRuntime
import CohortStore
import CohortWire
import Foundation
import Logging

extension SiteSession {
    /// Takes part in a private set intersection: the site's policy must allow `psi` tasks (and `psi.allow_members`
    /// for an intersection that reveals members); the identifiers come from the site's own data, read with the
    /// request's schema, and never leave the site: only blinded, sealed points do, each recorded in the egress log.
    /// Members the site learns are written to its state directory (`psi/<session>-members.txt`), not sent.
    func takePartInPSI(_ task: Cohort_V1_Task, outgoing: AsyncStream<Cohort_V1_SiteEvent>.Continuation, logger: Logger) async {
        guard self.policy.allows(.psi) else {
            await self.refuse(task, code: "policy", message: "this site's policy does not allow private set intersections (add psi to allowed_tasks in site.yaml)",
                              outgoing: outgoing, logger: logger)
            return
        }
        let parameters: PSIParameters
        let identifiers: [String]
        do {
            parameters = try WireJSON.decoder().decode(PSIParameters.self, from: task.psiParameters)
            let schema = try DatasetSchema.parse(yaml: task.schemaYaml, source: "intersection \(task.jobID) schema")
            let data = try SiteDataset.load(directory: self.agent.dataDirectory, site: self.site, schema: schema, standardize: .none,
                                            testFraction: 0.2, seed: 42).site
            identifiers = try PSIIdentifiers.of(data, schema: schema, column: task.psiColumn.isEmpty ? nil : task.psiColumn)
        } catch let e as DataError {
            logger.error("the data does not match the intersection's schema: \(e)")
            await self.fail(task, code: "data", message: "the site's data does not match the intersection's schema: \(e.redactedDescription)", logger: logger)
            return
        } catch {
            await self.fail(task, code: "invalid-psi", message: "\(error)", logger: logger)
            return
        }
        // The parties' certificate keys, checked against the project CA: every hello key must carry its owner's
        // signature, so the relay cannot put its own key in the middle.
        let authenticator: PSIHelloAuthenticator
        do {
            let keys = try self.agent.kit.identityVerifier.siteSigningKeys(participants: parameters.parties,
                                                                           certificates: task.psiCertificates.map { [UInt8]($0) })
            authenticator = PSIHelloAuthenticator(keys: keys)
        } catch {
            await self.refuse(task, code: "identity", message: "the parties' certificates do not check out: \(error)", outgoing: outgoing, logger: logger)
            return
        }
        var party: PSIParty
        do {
            party = try PSIParty(name: self.site, identifiers: identifiers, parameters: parameters, policy: self.policy.psi)
        } catch {
            await self.refuse(task, code: "policy", message: error.message, outgoing: outgoing, logger: logger)
            return
        }
        let deadline = task.deadlineUnixMs > 0 ? Date(timeIntervalSince1970: Double(task.deadlineUnixMs) / 1000) : Date().addingTimeInterval(120)
        let inbox = await self.psi.open(task.taskID, closingAfter: deadline.timeIntervalSinceNow)
        func send(_ messages: [PSIMessage]) throws {
            for m in messages {
                var envelope = Cohort_V1_PSIEnvelope()
                envelope.taskID = task.taskID
                envelope.message = try WireJSON.encoder().encode(m)
                if let signature = try PSIHelloAuthenticator.signature(for: m, key: self.agent.kit.privateKey) { envelope.signature = signature }
                let bytes = [UInt8](envelope.message)
                self.egress("psi.\(m.body.kind)", job: task.jobID, round: 0, bytes: bytes.count, sha256: Safetensors.sha256Hex(bytes),
                            extra: ["to": .string(m.to)])
                outgoing.yield(self.event { $0.psi = envelope })
            }
        }
        logger.info("private set intersection \(parameters.session.prefix(8)) with \(parameters.parties.joined(separator: ", ")): \(identifiers.count) identifiers")
        do {
            try send(party.start())
            for await envelope in inbox {
                let message = try WireJSON.decoder().decode(PSIMessage.self, from: envelope.message)
                try authenticator.check(message, signature: envelope.signature)
                try send(try party.receive(message))
                if party.result != nil { break }
            }
        } catch {
            await self.psi.close(task.taskID)
            await self.fail(task, code: "psi", message: "\(error)", logger: logger)
            return
        }
        await self.psi.close(task.taskID)
        guard let result = party.result else {
            await self.fail(task, code: "dropped", message: "the intersection ended before this site learned its result", logger: logger)
            return
        }
        if let members = result.members {
            let url = self.agent.stateDirectory.appendingPathComponent("psi/\(parameters.session)-members.txt")
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data((members.joined(separator: "\n") + "\n").utf8).write(to: url)
                logger.info("intersection: \(result.cardinality) identifiers in common; members in \(url.path)")
            } catch {
                logger.error("cannot write the intersection's members: \(error)")
            }
        } else {
            logger.info("intersection: \(result.cardinality) identifiers in common")
        }
    }
}
