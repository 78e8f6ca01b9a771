public import CohortModel
public import CohortStrategy
public import CohortTensor

/// A two-tier federation in one process: each region aggregates its own sites exactly and passes its partial sum
/// up, as a regional aggregator does on the network.
///
/// The top tier sees one "site" per region (its training examples are the region's total). Because every
/// contribution is rounded once into fixed point and partial sums merge exactly, FedAvg over regions gives the same
/// model, bit for bit, as FedAvg over all sites directly.
public struct RegionalSites: SiteConnector {
    /// Region name -> its sites.
    public let regions: [String: InProcessSites]

    public init(regions: [String: [SiteExecutor]], seed: UInt64, concurrency: Int = ProcessorCount.active) {
        self.regions = regions.mapValues { InProcessSites(executors: $0, seed: seed, concurrency: concurrency) }
    }

    /// Divides sites among `count` regions in name order, round robin (region-1, region-2, ...).
    public static func assign(_ executors: [SiteExecutor], regions count: Int) -> [String: [SiteExecutor]] {
        var out = [String: [SiteExecutor]]()
        for (i, e) in executors.sorted(by: { $0.name < $1.name }).enumerated() {
            out["region-\(i % max(1, count) + 1)", default: []].append(e)
        }
        return out
    }

    /// The regions as the top tier sees them.
    public var siteInfos: [SiteInfo] {
        self.regions.keys.sorted().map { r in
            SiteInfo(name: r, trainCount: self.regions[r]!.executors.values.reduce(0) { $0 + $1.trainingData.count })
        }
    }

    public func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        var failures = [SiteFailure]()
        for region in plan.participants {
            guard let sites = self.regions[region] else {
                failures.append(SiteFailure(site: region, code: .dropped, message: "no such region"))
                continue
            }
            let names = sites.executors.keys.sorted()
            var regionalPlan = plan
            regionalPlan.participants = names
            var regional = WeightedDeltaAggregator(parameterCount: global.count, expectedSites: Set(names))
            failures += await sites.train(regionalPlan, global: global, aggregator: &regional)
            guard let update = regional.regionalUpdate(site: region, round: plan.round) else { continue }
            do throws(SiteFailure) {
                try aggregator.accept(update)
            } catch {
                failures.append(error)
            }
        }
        return failures
    }

    public func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        var results = [SiteEvaluation]()
        var failures = [SiteFailure]()
        for region in sites {
            guard let s = self.regions[region] else { continue }
            let r = await s.evaluate(round: round, sites: s.executors.keys.sorted(), global: global)
            results += r.results
            failures += r.failures
        }
        return (results, failures)
    }
}
