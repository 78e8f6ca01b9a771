import CohortAnalytics
import CohortData
import CohortModel
import CohortPKI
import CohortPrivacy
import CohortRuntime
import CohortStore
import CohortWire
import Foundation
import Logging

extension SiteSession {
    /// Answers a federated statistics query: the site's policy (`policy.analytics` in `site.yaml`) decides what may
    /// be released, disclosure control suppresses small cells, noise (when the query asks for it) is charged to the
    /// site's privacy ledger before anything leaves, and the answer or the refusal is recorded in the egress log.
    func answerQuery(_ task: Cohort_V1_Task, logger: Logger) async {
        let answer: SiteAnswer
        if !self.policy.allows(.statistics) {
            answer = .refused(site: self.site, QueryRefusal(.statisticNotAllowed, "this site's policy does not allow statistics tasks (allowed_tasks in site.yaml)"))
        } else {
            answer = self.computeAnswer(task, logger: logger)
        }
        if case .refused(_, let r) = answer {
            logger.warning("statistics query refused: \(r)")
            _ = try? self.store.egress.append(actor: self.site, event: "query.refused", payload: [
                "query": .string(task.jobID), "code": .string(r.code.value), "reason": .string(r.reason),
            ], contentHashes: [])
        }
        var report = Cohort_V1_StatisticsReport()
        report.protocol = WireProtocol.version
        report.site = self.site
        report.taskID = task.taskID
        report.jobID = task.jobID
        report.answer = (try? WireJSON.encoder().encode(answer)) ?? Data()
        let bytes = [UInt8](report.answer)
        self.egress("statistics", job: task.jobID, round: Int(task.round), bytes: bytes.count, sha256: Safetensors.sha256Hex(bytes),
                    extra: ["released": .bool(answer.isReleased)])
        do {
            let receipt = try await self.federation.submitStatistics(report)
            if !receipt.accepted { logger.warning("statistics answer not used: \(receipt.code): \(receipt.message)") }
        } catch {
            logger.error("cannot send the statistics answer: \(error)")
        }
    }

    private func computeAnswer(_ task: Cohort_V1_Task, logger: Logger) -> SiteAnswer {
        let plan: QueryPlan
        let schema: DatasetSchema
        do {
            plan = try WireJSON.decoder().decode(QueryPlan.self, from: task.queryPlan)
            schema = try DatasetSchema.parse(yaml: task.schemaYaml, source: "query \(task.jobID) schema")
        } catch {
            return .refused(site: self.site, QueryRefusal(.invalidPlan, "the query does not parse: \(error)"))
        }
        let data: SiteData
        do {
            // For a job's statistics (global standardisation), the job's split decides which rows are training rows.
            let job = task.hasJob ? try? task.job.jobSpec() : nil
            data = try SiteDataset.load(directory: self.agent.dataDirectory, site: self.site, schema: schema, standardize: .none,
                                        testFraction: job?.testFraction ?? 0.2, seed: job?.seed ?? 42).site
        } catch {
            logger.error("the data does not match the query's schema: \(error)")
            return .refused(site: self.site, QueryRefusal(.invalidPlan, "the site's data does not match the query's schema: \(error.redactedDescription)"))
        }
        var budget: PrivacyBudget?
        if plan.query.privacy != nil, let maxEpsilon = self.policy.maxEpsilon ?? self.policy.analytics.maximumEpsilon {
            do {
                budget = PrivacyBudget(ledger: try self.privacyLedger(), maxEpsilon: maxEpsilon, maxDelta: self.policy.analytics.maximumDelta)
            } catch {
                return .refused(site: self.site, QueryRefusal(.budgetExhausted, "cannot read this site's privacy ledger: \(error)"))
            }
        }
        var noise = SecureNoiseSource()
        let answer = SiteAnalytics(site: self.site, policy: self.policy.analytics).answer(plan, data: data, budget: budget, noise: &noise)
        if case .released(let s) = answer, let privacy = s.privacy {
            let entry = privacy.ledgerEntry(queryID: task.taskID)
            do {
                try self.recordPrivacySpend(entry)
            } catch {
                // Fail closed: nothing noisy leaves without its charge on the ledger.
                return .refused(site: self.site, QueryRefusal(.budgetExhausted, "cannot record the privacy spend: \(error)"))
            }
        }
        return answer
    }
}

extension SiteAnswer {
    var isReleased: Bool {
        if case .released = self { return true }
        return false
    }
}
