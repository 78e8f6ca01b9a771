public import CohortPKI
public import CohortRuntime
import CohortModel
import CohortStore
import CohortStrategy
import CohortWire
public import Foundation
import GRPCCore
public import Logging

/// A regional aggregator (`cohort aggregator`): a coordinator to its region's sites, with its own certificate,
/// state and audit log, and one site to its upstream coordinator.
///
/// The region's sites connect to it exactly as to a coordinator. Each round it sends them the upstream task, sums
/// their updates exactly (``ExactAccumulator``) and passes the sum up as one update whose examples are the region's.
/// Because partial sums merge exactly, the model equals a flat FedAvg run over all sites, bit for bit.
///
/// ```swift
/// let aggregator = try RegionalAggregator(kit: kit, stateDirectory: nil, logger: logger)
/// try await aggregator.run(software: "1.0") { region in try await upstreamAgent(region).run() }
/// ```
public struct RegionalAggregator: Sendable {
    public let kit: Kit
    public let config: AggregatorConfig
    public let stateDirectory: URL
    let logger: Logger

    public init(kit: Kit, stateDirectory: URL?, logger: Logger) throws {
        guard case .aggregator(let config) = kit.config else {
            throw PKIError(.roleMismatch, file: kit.directory.path, "this is a \(kit.role.rawValue) kit; `cohort aggregator` needs an aggregator's kit")
        }
        self.kit = kit
        self.config = config
        self.stateDirectory = stateDirectory ?? config.stateDirectory(kit: kit.directory)
        self.logger = logger
    }

    /// Serves the region's sites and runs `upstream` (the link to the coordinator) with the region as its tier,
    /// until cancelled or either side fails.
    public func run(software: String, onListening: @Sendable (Int) -> Void = { _ in },
                    upstream: @escaping @Sendable (any RegionalTier) async throws -> Void) async throws {
        let config = self.config
        try await Coordinator.serve(kit: self.kit, config: config.server, stateDirectory: self.stateDirectory.appendingPathComponent("region"),
                                    logger: self.logger, software: software, onListening: onListening) { context in
            let region = RegionNetwork(context: context, config: config)
            return ([FederationService(context: context)], { try await upstream(region) })
        }
    }
}

/// The region's side of an aggregator: its sites' connections, driven by the tasks the upstream sends.
struct RegionNetwork: RegionalTier {
    let context: CoordinatorContext
    let config: AggregatorConfig
    let jobs = RegionJobs()

    var name: String { self.config.name }

    /// A job the region prepared: the spec its sites saw, and the sites that accepted it.
    struct Job: Sendable {
        var spec: JobSpec
        var sites: [String]
        var layout: ParameterLayout
    }

    /// Seconds left before `deadline`, keeping a fifth back (at least two seconds) to pass the result up.
    static func budget(until deadline: Date) -> Int {
        let left = deadline.timeIntervalSinceNow
        return max(1, Int(min(left * 0.8, left - 2)))
    }

    func prepare(job: String, spec: JobSpec, globalStatistics: Data, deadline: Date) async throws(SiteFailure) -> (train: Int, test: Int) {
        let logger = self.context.logger(job: job)
        if let reason = spec.regionalRefusal {
            self.context.records.audit(self.name, "region.refused", ["job": .string(job), "reason": .string(reason)])
            throw SiteFailure(site: self.name, code: .refused, message: "regional aggregator \(self.name): \(reason)")
        }
        let layout: ParameterLayout
        do { layout = try spec.modelSpec().layout } catch {
            throw SiteFailure(site: self.name, code: .failed, message: "the job's model is invalid: \(error)")
        }
        let budget = Self.budget(until: deadline)
        let expected = Set(self.config.sites)
        let minimum = self.config.minSites
        let connected = await self.context.registry.wait(timeout: .seconds(max(1, min(spec.waitForSitesSeconds, budget / 2)))) { sites in
            expected.isEmpty ? sites.count >= minimum : expected.isSubset(of: Set(sites))
        }
        let candidates = expected.isEmpty ? connected : connected.filter(expected.contains)
        // The region's sites see the job as the region runs it: their sites, and the fewest sites in any sum that
        // leaves the region (what their `min_sites_per_aggregate` policy is about).
        var regional = spec
        regional.sites = candidates
        regional.minimumSites = minimum
        let connector = NetworkSites(context: self.context, jobID: job, spec: regional, layout: layout)
        let outcome = await connector.prepare(sites: candidates, globalStatistics: globalStatistics, timeoutSeconds: budget, logger: logger)
        let missing = self.config.sites.filter { !connected.contains($0) }
        guard outcome.prepared.count >= minimum else {
            let reasons = outcome.failures.sorted { $0.site < $1.site }.map { "\($0.site): \($0.message)" }
                + missing.map { "\($0): not connected" }
            throw SiteFailure(site: self.name, code: .refused,
                              message: "only \(outcome.prepared.count) of region \(self.name)'s sites accepted the job; it passes up sums of at least \(minimum) (min_sites). \(reasons.joined(separator: "; "))")
        }
        let sites = outcome.prepared.map(\.name).sorted()
        await self.jobs.put(job, Job(spec: regional, sites: sites, layout: layout))
        self.record(job: job, spec: regional)
        self.context.records.audit(self.name, "region.prepared", ["job": .string(job), "sites": .array(sites.map { .string($0) }),
                                                                  "refused": .array(outcome.failures.map { .string("\($0.site): \($0.message)") })])
        logger.info("region prepared the job with \(sites.count) sites: \(sites.joined(separator: ", "))")
        let train = outcome.prepared.reduce(0) { $0 + $1.trainCount }
        let test = sites.reduce(0) { $0 + (outcome.testCounts[$1] ?? 0) }
        return (train, test)
    }

    /// The job in the aggregator's own store, so its sites may fetch the job's models and its audit log names it.
    private func record(job: String, spec: JobSpec) {
        guard (try? self.context.records.store.job(id: job)) ?? nil == nil else { return }
        do {
            let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            try self.context.records.store.insertJob(JobRow(
                id: job, name: spec.name, specJSON: specJSON, status: .running, submittedBy: "upstream", submittedAt: Date(),
                startedAt: Date(), finishedAt: nil, roundsCompleted: 0, message: nil, finalModelSHA256: nil))
        } catch {
            self.context.baseLogger.error("cannot record job \(job): \(error)")
        }
    }

    func layout(of job: String) async -> ParameterLayout? { await self.jobs.get(job)?.layout }

    private func job(_ id: String) async throws(SiteFailure) -> Job {
        guard let job = await self.jobs.get(id) else {
            throw SiteFailure(site: self.name, code: .failed, message: "region \(self.name) has not prepared job \(id)")
        }
        return job
    }

    func train(job id: String, round: Int, instructions: TrainInstructions, global: ModelParameters,
               deadline: Date) async throws(SiteFailure) -> SiteUpdate {
        let job = try await self.job(id)
        var spec = job.spec
        spec.roundTimeoutSeconds = Self.budget(until: deadline)
        let plan = RoundPlan(round: round, participants: job.sites, instructions: instructions)
        var sum = WeightedDeltaAggregator(parameterCount: global.count, expectedSites: Set(job.sites))
        let failures = await NetworkSites(context: self.context, jobID: id, spec: spec, layout: job.layout).train(plan, global: global, aggregator: &sum)
        let payload: [String: LogValue] = [
            "job": .string(id), "round": .int(Int64(round)), "sites": .array(sum.acceptedSites.sorted().map { .string($0) }),
            "failures": .array(failures.map { .string("\($0.site): \($0.code): \($0.message)") }),
        ]
        guard sum.acceptedSites.count >= self.config.minSites, let update = sum.regionalUpdate(site: self.name, round: round) else {
            self.context.records.audit(self.name, "region.round.withheld", payload)
            let why = failures.map { "\($0.site): \($0.message)" }.joined(separator: "; ")
            throw SiteFailure(site: self.name, code: .failed,
                              message: "only \(sum.acceptedSites.count) of region \(self.name)'s \(job.sites.count) sites answered round \(round); it passes up sums of at least \(self.config.minSites) (min_sites). \(why)")
        }
        self.context.records.audit(self.name, "region.round", payload)
        self.context.logger(job: id, round: round).info("region sum of \(sum.acceptedSites.count) sites, \(update.exampleCount) examples")
        return update
    }

    func evaluate(job id: String, round: Int, global: ModelParameters, deadline: Date) async throws(SiteFailure) -> SiteEvaluation {
        let job = try await self.job(id)
        var spec = job.spec
        spec.roundTimeoutSeconds = Self.budget(until: deadline)
        let (results, failures) = await NetworkSites(context: self.context, jobID: id, spec: spec, layout: job.layout)
            .evaluate(round: round, sites: job.sites, global: global)
        guard let merged = SiteEvaluation.merged(results, as: self.name) else {
            throw SiteFailure(site: self.name, code: .failed,
                              message: "no site of region \(self.name) evaluated round \(round): \(failures.map { "\($0.site): \($0.message)" }.joined(separator: "; "))")
        }
        return merged
    }

    func finish(job id: String, status: String) async {
        let sites = await self.jobs.get(id)?.sites ?? []
        await self.context.announceEnd(id, sites: sites, status: status)
        await self.jobs.remove(id)
        if let s = JobStatus(rawValue: status), s.isTerminal {
            try? self.context.records.store.updateJobStatus(id: id, status: s, message: nil, finalModelSHA256: nil)
        }
        self.context.records.audit(self.name, "region.job.ended", ["job": .string(id), "status": .string(status)])
    }
}

/// Jobs the region prepared.
actor RegionJobs {
    private var jobs: [String: RegionNetwork.Job] = [:]
    func get(_ id: String) -> RegionNetwork.Job? { self.jobs[id] }
    func put(_ id: String, _ job: RegionNetwork.Job) { self.jobs[id] = job }
    func remove(_ id: String) { self.jobs[id] = nil }
}
