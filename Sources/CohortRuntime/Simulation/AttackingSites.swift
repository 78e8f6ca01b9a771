public import CohortModel
public import CohortStrategy

/// A ``SiteConnector`` in which some sites attack: their updates are replaced (``AttackSpec/tamper(_:site:round:seed:)``)
/// on their way to the aggregator. Everything else passes through to the wrapped connector.
///
/// For tests and experiments only. Label flipping needs no wrapper: the attackers' executors train on flipped labels
/// (see ``Simulation``).
public struct AttackingSites<Base: SiteConnector>: SiteConnector {
    public let base: Base
    public let attack: AttackSpec
    /// The attacking sites.
    public let attackers: Set<String>
    /// The job seed (noise is drawn from it).
    public let seed: UInt64

    public init(base: Base, attack: AttackSpec, attackers: Set<String>, seed: UInt64) {
        self.base = base
        self.attack = attack
        self.attackers = attackers
        self.seed = seed
    }

    public func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        var tampering = TamperingAggregator(inner: aggregator, attack: self.attack, attackers: self.attackers, seed: self.seed)
        let failures = await self.base.train(plan, global: global, aggregator: &tampering)
        aggregator = tampering.inner
        return failures
    }

    public func evaluate(
        round: Int, sites: [String], global: ModelParameters
    ) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        await self.base.evaluate(round: round, sites: sites, global: global)
    }
}

/// Rewrites attackers' updates, then hands every update to the real aggregator.
struct TamperingAggregator<Inner: UpdateAggregator>: UpdateAggregator {
    var inner: Inner
    let attack: AttackSpec
    let attackers: Set<String>
    let seed: UInt64

    mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
        var u = update
        if self.attackers.contains(u.site) {
            u.delta = self.attack.tamper(u.delta, site: u.site, round: u.round, seed: self.seed)
        }
        try self.inner.accept(u)
    }

    var acceptedSites: [String] { self.inner.acceptedSites }
    var siteTraining: [String: SiteTrainingRecord] { self.inner.siteTraining }
}
