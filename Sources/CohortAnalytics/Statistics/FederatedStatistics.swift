public import CohortData
import CohortPrivacy
import CohortTensor
import Foundation

/// The outcome of a federated statistics query: the plan, every site's answer, and the merged statistics.
public struct StatisticsResult: Sendable, Hashable, Codable {
    public var plan: QueryPlan
    /// Released site partials, in site-name order.
    public var sites: [SiteStatistics]
    /// Sites that refused, with their reasons.
    public var refusals: [SiteRefusal]
    public var federation: MergedStatistics

    /// A site's refusal.
    public struct SiteRefusal: Sendable, Hashable, Codable {
        public var site: String
        public var refusal: QueryRefusal
    }

    public init(plan: QueryPlan, answers: [SiteAnswer]) throws(AnalyticsError) {
        self.plan = plan
        var released = [SiteStatistics]()
        var refused = [SiteRefusal]()
        for a in answers {
            switch a {
            case .released(let s): released.append(s)
            case .refused(let site, let r): refused.append(SiteRefusal(site: site, refusal: r))
            }
        }
        self.sites = released.sorted { NaturalOrder.less($0.site, $1.site) }
        self.refusals = refused.sorted { NaturalOrder.less($0.site, $1.site) }
        self.federation = try FederatedMerge.merge(self.sites, plan: plan)
    }
}

/// Federated statistics in simulation: every site of a ``Federation`` answers in-process.
///
/// The flow is the networked one without the network: the coordinator plans (with a preliminary round when bins
/// must come from the data), each site answers from its own rows under its own policy, and the coordinator
/// merges what was released.
public enum FederatedStatistics {
    /// Where differential privacy noise comes from in a simulation.
    public enum NoiseSeeding: Sendable, Hashable {
        /// The operating system's CSPRNG (what a real site uses).
        case secure
        /// A seeded generator per site, for reproducible tests (protects nothing).
        case seeded(UInt64)
    }

    /// Runs a query over every site.
    ///
    /// - Parameters:
    ///   - policy: Each site's policy, by site name.
    public static func run(
        _ query: StatisticsQuery, federation: Federation,
        policy: @Sendable (String) -> SiteAnalyticsPolicy = { _ in .standard }, noise: NoiseSeeding = .secure
    ) async throws(AnalyticsError) -> StatisticsResult {
        var preliminary: MergedStatistics?
        if let pq = try QueryPlanner.preliminaryQuery(for: query, schema: federation.schema) {
            let pplan = try QueryPlanner.plan(pq, schema: federation.schema)
            let answers = await Self.answers(pplan, federation: federation, policy: policy, noise: noise)
            preliminary = try StatisticsResult(plan: pplan, answers: answers).federation
        }
        let plan = try QueryPlanner.plan(query, schema: federation.schema, preliminary: preliminary)
        let answers = await Self.answers(plan, federation: federation, policy: policy, noise: noise)
        return try StatisticsResult(plan: plan, answers: answers)
    }

    /// Every site's answer to a plan, computed concurrently (at most one site per core at a time).
    public static func answers(
        _ plan: QueryPlan, federation: Federation, policy: @Sendable (String) -> SiteAnalyticsPolicy, noise: NoiseSeeding
    ) async -> [SiteAnswer] {
        let sites = federation.sites
        let policies = sites.map { policy($0.name) }
        let width = max(1, min(ProcessInfo.processInfo.activeProcessorCount, sites.count))
        return await withTaskGroup(of: (Int, SiteAnswer).self) { group in
            var next = 0
            var out = [SiteAnswer?](repeating: nil, count: sites.count)
            func add(_ i: Int) {
                let site = sites[i]
                let sitePolicy = policies[i]
                group.addTask {
                    let analytics = SiteAnalytics(site: site.name, policy: sitePolicy)
                    switch noise {
                    case .secure:
                        var source = SecureNoiseSource()
                        return (i, analytics.answer(plan, data: site, noise: &source))
                    case .seeded(let seed):
                        var source = SeededNoiseSource(RandomSource(seed: seed).derived("analytics-noise", site.name))
                        return (i, analytics.answer(plan, data: site, noise: &source))
                    }
                }
            }
            while next < width {
                add(next)
                next += 1
            }
            for await (i, answer) in group {
                out[i] = answer
                if next < sites.count {
                    add(next)
                    next += 1
                }
            }
            return out.map { $0! }
        }
    }
}
