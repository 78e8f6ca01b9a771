import CohortAnalytics
import CohortData
import CohortModel
import CohortRuntime
import CohortStore
import CohortStrategy
import CohortWire
import Foundation
import Logging

/// Runs a federated statistics query over the network: plans it, sends a statistics task to each site (a
/// preliminary round first when bins must come from the data), and merges what the sites' disclosure control
/// released. The coordinator sees only released aggregates and refusals.
struct QueryRunner {
    let context: CoordinatorContext

    struct Outcome {
        var id: String
        var result: StatisticsResult
        var failures: [SiteFailure]
    }

    ///
    /// - Parameter job: The job the query serves (its test split then decides which rows are training rows).
    func run(query: StatisticsQuery, schema: DatasetSchema, schemaYAML: String, sites: [String], timeoutSeconds: Int,
             admin: String, job: JobSpec? = nil) async throws -> Outcome {
        let id = "query-" + UUID().uuidString.prefix(8).lowercased()
        let jobMessage = job.map(Cohort_V1_JobSpec.init)
        let logger = self.context.logger(job: id)
        // NetworkSites routes the tasks; a query has no model, so the spec only carries its timeout.
        var spec = JobSpec(name: id, schemaYAML: schemaYAML)
        spec.roundTimeoutSeconds = timeoutSeconds
        let sitesConnector = NetworkSites(context: self.context, jobID: id, spec: spec, layout: ParameterLayout([]))
        self.context.records.audit(admin, "query.submitted", ["query": .string(id), "sites": .array(sites.map { .string($0) }),
                                                              "statistics": .array(query.statistics.map { .string("\($0)") }),
                                                              "columns": .array(query.columns.map { .string($0) })])
        var failures = [SiteFailure]()
        func ask(_ plan: QueryPlan, round: Int) async throws -> [SiteAnswer] {
            let planJSON = try WireJSON.encoder().encode(plan)
            var answers = [SiteAnswer]()
            let outcome = await sitesConnector.collect(
                round: round, kind: .statistics, sites: sites, model: nil, instructions: nil, logger: logger,
                timeoutSeconds: timeoutSeconds,
                customize: { task in
                    task.queryPlan = planJSON
                    task.schemaYaml = schemaYAML
                    if let jobMessage { task.job = jobMessage }
                }
            ) { event, failures in
                guard case .statistics(let site, let data) = event else { return false }
                do {
                    let answer = try WireJSON.decoder().decode(SiteAnswer.self, from: data)
                    guard answer.site == site else {
                        failures.append(SiteFailure(site: site, code: .rejected, message: "the answer names another site"))
                        return true
                    }
                    answers.append(answer)
                } catch {
                    failures.append(SiteFailure(site: site, code: .rejected, message: "unreadable answer: \(error)"))
                }
                return true
            }
            failures += outcome.failures
            return answers
        }
        var preliminary: MergedStatistics?
        if let pq = try QueryPlanner.preliminaryQuery(for: query, schema: schema) {
            let pplan = try QueryPlanner.plan(pq, schema: schema)
            preliminary = try StatisticsResult(plan: pplan, answers: try await ask(pplan, round: 0)).federation
        }
        let plan = try QueryPlanner.plan(query, schema: schema, preliminary: preliminary)
        let result = try StatisticsResult(plan: plan, answers: try await ask(plan, round: 1))
        self.context.records.audit("coordinator", "query.completed", [
            "query": .string(id), "plan_sha256": .string(plan.digest),
            "released": .array(result.sites.map { .string($0.site) }),
            "refused": .array(result.refusals.map { .string("\($0.site): \($0.refusal)") }),
            "failed": .array(failures.map { .string("\($0.site): \($0.message)") }),
        ])
        logger.info("query answered by \(result.sites.count) sites (\(result.refusals.count) refused, \(failures.count) failed)")
        return Outcome(id: id, result: result, failures: failures)
    }
}
