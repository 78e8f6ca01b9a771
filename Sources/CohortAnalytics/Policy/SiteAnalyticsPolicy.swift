public import CohortPrivacy
public import Foundation

/// What a site allows analytics queries to release. Checked at the site before anything is computed.
///
/// In YAML (e.g. a site's `analytics-policy.yaml`):
/// ```yaml
/// allowed_statistics: [count, sum, mean, variance, std, histogram, quantiles, missing, covariance, correlation]
/// min_cell_count: 10       # no released value is built from fewer records
/// allow_min_max: false     # min and max expose single records
/// require_noise: false     # refuse queries without differential privacy
/// max_epsilon: 1.0         # largest epsilon one query may spend (nil: no limit)
/// max_delta: 1e-5
/// ```
public struct SiteAnalyticsPolicy: Sendable, Hashable, Codable {
    public var allowedStatistics: Set<Statistic>
    public var minimumCellCount: Int
    public var allowMinMax: Bool
    public var requireNoise: Bool
    public var maximumEpsilon: Double?
    public var maximumDelta: Double?

    enum CodingKeys: String, CodingKey {
        case allowedStatistics = "allowed_statistics"
        case minimumCellCount = "min_cell_count"
        case allowMinMax = "allow_min_max"
        case requireNoise = "require_noise"
        case maximumEpsilon = "max_epsilon"
        case maximumDelta = "max_delta"
    }

    public init(
        allowedStatistics: Set<Statistic> = Set(Statistic.all.filter { !$0.isDisclosive }), minimumCellCount: Int = 5,
        allowMinMax: Bool = false, requireNoise: Bool = false, maximumEpsilon: Double? = nil, maximumDelta: Double? = nil
    ) {
        self.allowedStatistics = allowedStatistics
        self.minimumCellCount = minimumCellCount
        self.allowMinMax = allowMinMax
        self.requireNoise = requireNoise
        self.maximumEpsilon = maximumEpsilon
        self.maximumDelta = maximumDelta
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SiteAnalyticsPolicy()
        self.allowedStatistics = try c.decodeIfPresent(Set<Statistic>.self, forKey: .allowedStatistics) ?? d.allowedStatistics
        self.minimumCellCount = try c.decodeIfPresent(Int.self, forKey: .minimumCellCount) ?? d.minimumCellCount
        self.allowMinMax = try c.decodeIfPresent(Bool.self, forKey: .allowMinMax) ?? false
        self.requireNoise = try c.decodeIfPresent(Bool.self, forKey: .requireNoise) ?? false
        self.maximumEpsilon = try c.decodeIfPresent(Double.self, forKey: .maximumEpsilon)
        self.maximumDelta = try c.decodeIfPresent(Double.self, forKey: .maximumDelta)
        guard self.minimumCellCount >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .minimumCellCount, in: c, debugDescription: "min_cell_count must be at least 1")
        }
    }

    /// The default: every statistic but min and max, at least 5 records per released cell, no noise required.
    public static let standard = SiteAnalyticsPolicy()

    /// Loads a policy file.
    public static func load(from url: URL) throws(AnalyticsError) -> SiteAnalyticsPolicy {
        try YAMLFile.decode(SiteAnalyticsPolicy.self, from: YAMLFile.read(url, what: "analytics policy"), source: url.path, code: .invalidPolicy)
    }

    /// Checks a plan against the policy and the site's privacy ledger, returning why the site refuses, if it does.
    ///
    /// - Parameter budget: The site's ledger and limits (nil: not tracked here). A query with noise that would
    ///   take the ledger past them is refused.
    public func refusal(of plan: QueryPlan, budget: PrivacyBudget? = nil) -> QueryRefusal? {
        let query = plan.query
        let forbidden = query.statistics.filter { !self.allowedStatistics.contains($0) }
        if !forbidden.isEmpty {
            return QueryRefusal(.statisticNotAllowed,
                                "this site does not release \(forbidden.map(\.name).joined(separator: ", ")); drop them from the query")
        }
        if query.statistics.contains(where: \.isDisclosive) && !self.allowMinMax {
            return QueryRefusal(.minMaxNotAllowed, "this site does not release min or max (they expose single records); ask for quantiles instead")
        }
        let k = query.minimumCellCount ?? self.minimumCellCount
        if k < self.minimumCellCount {
            return QueryRefusal(.cellCountTooSmall,
                                "the query's min_cell_count \(k) is below this site's minimum of \(self.minimumCellCount); raise it or omit it")
        }
        guard let privacy = query.privacy else {
            if self.requireNoise {
                return QueryRefusal(.noiseRequired, "this site releases statistics only with differential privacy noise; add `privacy: {mechanism: laplace, epsilon: ...}`")
            }
            return nil
        }
        if let maxEps = self.maximumEpsilon, privacy.epsilon > maxEps {
            return QueryRefusal(.epsilonTooLarge, "the query spends epsilon \(privacy.epsilon), more than this site's limit of \(maxEps) per query; lower it")
        }
        if let d = privacy.delta, let maxDelta = self.maximumDelta, d > maxDelta {
            return QueryRefusal(.epsilonTooLarge, "the query spends delta \(d), more than this site's limit of \(maxDelta) per query; lower it")
        }
        if let budget {
            let entry = PrivacyLedger.Entry(jobID: "this query", epsilon: privacy.epsilon, delta: privacy.delta ?? 0, mechanism: "analytics query")
            if let refusal = budget.ledger.check(adding: entry, maxEpsilon: budget.maxEpsilon, maxDelta: budget.maxDelta) {
                return QueryRefusal(.budgetExhausted, refusal.message + "; ask with a smaller epsilon or wait for the site to raise its budget")
            }
        }
        if query.statistics.contains(where: \.isDisclosive) {
            return QueryRefusal(.notPrivatizable, "min and max have no bounded sensitivity and cannot be released with differential privacy; drop them")
        }
        for c in plan.columns where c.kind == .numeric && c.bounds == nil {
            return QueryRefusal(.notPrivatizable,
                                "column '\(c.name)' has no declared range, so its sensitivity is unbounded; declare `range: [min, max]` in the schema")
        }
        return nil
    }
}

/// Why a site refused a query: a value, not an error, so a coordinator can report it beside other sites' answers.
public struct QueryRefusal: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Kinds of refusal.
    public struct Code: Hashable, Sendable, Codable, CustomStringConvertible {
        public let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        public static let statisticNotAllowed = Code("statistic-not-allowed")
        public static let minMaxNotAllowed = Code("min-max-not-allowed")
        public static let cellCountTooSmall = Code("cell-count-too-small")
        public static let noiseRequired = Code("noise-required")
        public static let epsilonTooLarge = Code("epsilon-too-large")
        public static let budgetExhausted = Code("budget-exhausted")
        public static let notPrivatizable = Code("not-privatizable")
        public static let invalidPlan = Code("invalid-plan")

        public init(from decoder: any Decoder) throws { self.value = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(self.value)
        }
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(self.code): \(self.reason)" }
}
