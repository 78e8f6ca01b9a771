public import CohortData
public import CohortPrivacy

/// The site's side of federated statistics: checks a plan against the site's policy, computes exact aggregates
/// of its own rows, and releases them through disclosure control (and noise, when the query asks for it).
///
/// ```swift
/// let site = SiteAnalytics(site: "hospital-07", policy: .standard)
/// var noise = SecureNoiseSource()
/// let answer = site.answer(plan, table: table, noise: &noise)
/// ```
public struct SiteAnalytics: Sendable {
    public var site: String
    public var policy: SiteAnalyticsPolicy

    public init(site: String, policy: SiteAnalyticsPolicy) {
        self.site = site
        self.policy = policy
    }

    /// Answers a plan from the rows of `table`, or refuses it.
    ///
    /// - Parameters:
    ///   - budget: The site's privacy ledger and limits (nil: not tracked here). When the answer carries
    ///     ``SiteStatistics/privacy``, record its ``PrivacyAccounting/ledgerEntry(queryID:)`` in the ledger before
    ///     the answer leaves the site.
    ///   - noise: Where noise comes from when the query asks for differential privacy.
    public func answer(
        _ plan: QueryPlan, table: Table, budget: PrivacyBudget? = nil, noise: inout some NoiseSource
    ) -> SiteAnswer {
        self.answer(plan, tables: [table], budget: budget, noise: &noise)
    }

    /// Answers a plan from the rows of several tables with the same schema (e.g. a site's train and test files).
    public func answer(
        _ plan: QueryPlan, tables: [Table], budget: PrivacyBudget? = nil, noise: inout some NoiseSource
    ) -> SiteAnswer {
        if let refusal = self.policy.refusal(of: plan, budget: budget) {
            return .refused(site: self.site, refusal)
        }
        guard let table = tables.first, tables.allSatisfy({ $0.schema == table.schema }) else {
            return .refused(site: self.site, QueryRefusal(.invalidPlan, "the site's tables do not share one schema"))
        }
        if let refusal = Self.check(plan, against: table.schema) {
            return .refused(site: self.site, refusal)
        }
        let positions: [Int]
        switch SiteStatisticsEngine.positions(plan, in: table.schema) {
        case .success(let p): positions = p
        case .failure(let r): return .refused(site: self.site, r)
        }
        let k = plan.query.minimumCellCount ?? self.policy.minimumCellCount
        let exact = SiteStatisticsEngine.compute(plan, tables: tables, positions: positions)
        if let request = plan.query.privacy {
            let (groups, accounting) = PrivateRelease.release(exact, plan: plan, k: k, request: request, noise: &noise)
            return .released(SiteStatistics(site: self.site, planDigest: plan.digest, minimumCellCount: k, privacy: accounting, groups: groups))
        }
        let groups = DisclosureControl.release(exact, plan: plan, k: k)
        return .released(SiteStatistics(site: self.site, planDigest: plan.digest, minimumCellCount: k, privacy: nil, groups: groups))
    }

    /// Answers a plan from the site's data (the plan's `rows` picks train, test or both).
    public func answer(
        _ plan: QueryPlan, data: SiteData, budget: PrivacyBudget? = nil, noise: inout some NoiseSource
    ) -> SiteAnswer {
        self.answer(plan, tables: plan.tables(of: data), budget: budget, noise: &noise)
    }

    /// Checks that the site's schema has the plan's columns with the same kinds and levels.
    static func check(_ plan: QueryPlan, against schema: DatasetSchema) -> QueryRefusal? {
        for c in plan.columns {
            guard let spec = schema.column(named: c.name) else {
                return QueryRefusal(.invalidPlan, "this site's data has no column '\(c.name)'; check the job's schema")
            }
            let kind: QueryPlan.Kind = spec.type == .numeric ? .numeric : spec.type == .binary ? .binary : .categorical
            if kind != c.kind || (kind != .numeric && spec.levels != c.levels) {
                return QueryRefusal(.invalidPlan, "column '\(c.name)' is declared differently here than in the plan; align the schemas")
            }
            if plan.query.privacy != nil && kind == .numeric && c.bounds != spec.range {
                return QueryRefusal(.notPrivatizable, "the plan's bounds of '\(c.name)' are not this site's declared range, so they do not bound its values")
            }
        }
        if let by = plan.query.groupBy, let groups = plan.groups {
            guard let spec = schema.column(named: by), spec.levels + [QueryPlan.missingGroup] == groups else {
                return QueryRefusal(.invalidPlan, "the grouping column '\(by)' is declared differently here than in the plan; align the schemas")
            }
        }
        if let f = plan.query.filter {
            do { try f.validate(against: schema) } catch {
                return QueryRefusal(.invalidPlan, error.message)
            }
        }
        for name in plan.covarianceColumns where schema.column(named: name)?.type != .numeric {
            return QueryRefusal(.invalidPlan, "covariance column '\(name)' is not numeric here")
        }
        return nil
    }
}
