public import CohortAnalytics
/// What a site agrees to run: the site's own limits, enforced by the site agent before it touches local data.
///
/// Keys (under `policy:` in `site.yaml`; unknown keys are errors):
/// - `allowed_tasks` (list of `train`, `evaluate`, `statistics`, `psi`; default `[train, evaluate]`).
/// - `allowed_models` (list of `logistic`, `softmax`, `mlp`; default all three).
/// - `min_sites_per_aggregate` (integer, default 2): refuse jobs whose aggregates may include fewer sites.
/// - `max_rounds` (integer, default 1000): refuse jobs with more rounds.
/// - `max_epsilon` (number, optional): refuse jobs without differential privacy at this epsilon or below.
/// - `require_secure_aggregation` (bool, default false): refuse jobs without secure aggregation.
/// - `analytics` (``SiteAnalyticsPolicy``: `min_cell_count`, `allowed_statistics`, `allow_min_max`, `require_noise`,
///   `max_epsilon`, `max_delta`): what statistics queries may release (needs `statistics` in `allowed_tasks`).
/// - `psi` (`{allow_members: bool}`, default false): whether a private set intersection (with `psi` in
///   `allowed_tasks`) may tell the parties which identifiers they share, not only how many.
/// - `reproducible_noise` (bool, default false): draw differential-privacy noise from the job seed instead of the
///   operating system's CSPRNG. The run becomes reproducible bit for bit, and the noise protects nothing (its seed
///   is in the job): for acceptance tests of a deployment only.
public struct SitePolicy: Codable, Sendable, Hashable {
    /// Kinds of work a job can ask of a site.
    public enum TaskKind: String, Codable, Sendable, Hashable, CaseIterable {
        case train, evaluate, statistics, psi

        public init(from decoder: any Decoder) throws { self = try decoder.decodeStringEnum(Self.self) }
    }

    /// Model families a job can train (the raw values match `ModelSpec.Kind`).
    public enum ModelKind: String, Codable, Sendable, Hashable, CaseIterable {
        case logistic, softmax, mlp

        public init(from decoder: any Decoder) throws { self = try decoder.decodeStringEnum(Self.self) }
    }

    public var allowedTasks: [TaskKind]
    public var allowedModels: [ModelKind]
    public var minSitesPerAggregate: Int
    public var maxRounds: Int
    public var maxEpsilon: Double?
    public var requireSecureAggregation: Bool
    public var reproducibleNoise: Bool
    public var analytics: SiteAnalyticsPolicy
    public var psi: PSIPolicy

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowedTasks = "allowed_tasks"
        case allowedModels = "allowed_models"
        case minSitesPerAggregate = "min_sites_per_aggregate"
        case maxRounds = "max_rounds"
        case maxEpsilon = "max_epsilon"
        case requireSecureAggregation = "require_secure_aggregation"
        case reproducibleNoise = "reproducible_noise"
        case analytics, psi
    }

    public init(allowedTasks: [TaskKind] = [.train, .evaluate], allowedModels: [ModelKind] = ModelKind.allCases,
                minSitesPerAggregate: Int = 2, maxRounds: Int = 1000, maxEpsilon: Double? = nil,
                requireSecureAggregation: Bool = false, reproducibleNoise: Bool = false) {
        self.reproducibleNoise = reproducibleNoise
        self.analytics = .standard
        self.psi = PSIPolicy()
        self.allowedTasks = allowedTasks
        self.allowedModels = allowedModels
        self.minSitesPerAggregate = minSitesPerAggregate
        self.maxRounds = maxRounds
        self.maxEpsilon = maxEpsilon
        self.requireSecureAggregation = requireSecureAggregation
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SitePolicy()
        self.allowedTasks = try c.decodeIfPresent([TaskKind].self, forKey: .allowedTasks) ?? d.allowedTasks
        self.allowedModels = try c.decodeIfPresent([ModelKind].self, forKey: .allowedModels) ?? d.allowedModels
        self.minSitesPerAggregate =
            try c.decodeIfPresent(Int.self, forKey: .minSitesPerAggregate) ?? d.minSitesPerAggregate
        self.maxRounds = try c.decodeIfPresent(Int.self, forKey: .maxRounds) ?? d.maxRounds
        self.maxEpsilon = try c.decodeIfPresent(Double.self, forKey: .maxEpsilon)
        self.requireSecureAggregation =
            try c.decodeIfPresent(Bool.self, forKey: .requireSecureAggregation) ?? d.requireSecureAggregation
        self.reproducibleNoise = try c.decodeIfPresent(Bool.self, forKey: .reproducibleNoise) ?? false
        self.analytics = try c.decodeIfPresent(SiteAnalyticsPolicy.self, forKey: .analytics) ?? .standard
        self.psi = try c.decodeIfPresent(PSIPolicy.self, forKey: .psi) ?? PSIPolicy()
    }

    /// Whether the policy allows a kind of task.
    public func allows(_ task: TaskKind) -> Bool { self.allowedTasks.contains(task) }

    /// Whether the policy allows a model family.
    public func allows(_ model: ModelKind) -> Bool { self.allowedModels.contains(model) }

    /// Checks counts and epsilon; `key` is the policy's key path (`policy`).
    func validate(key: String, source: String) throws(PKIError) {
        try ConfigValidation.positive(self.minSitesPerAggregate, key: "\(key).min_sites_per_aggregate", source: source)
        try ConfigValidation.positive(self.maxRounds, key: "\(key).max_rounds", source: source)
        if let epsilon = self.maxEpsilon, !(epsilon.isFinite && epsilon > 0) {
            throw PKIError(.invalidConfig, file: source, key: "\(key).max_epsilon", "\(epsilon) must be a positive number",
                           hint: "remove the key to accept jobs without differential privacy")
        }
    }

    /// Writes the `policy:` section.
    func write(to y: inout YAMLText, key: String) {
        y.section(key, comment: "this site's own limits; jobs outside them are refused before data is read")
        y.field("allowed_tasks", "[" + self.allowedTasks.map(\.rawValue).joined(separator: ", ") + "]", indent: 1,
                comment: TaskKind.allCases.map(\.rawValue).joined(separator: ", "))
        y.field("allowed_models", "[" + self.allowedModels.map(\.rawValue).joined(separator: ", ") + "]", indent: 1,
                comment: ModelKind.allCases.map(\.rawValue).joined(separator: ", "))
        y.field("min_sites_per_aggregate", String(self.minSitesPerAggregate), indent: 1)
        y.field("max_rounds", String(self.maxRounds), indent: 1)
        if let epsilon = self.maxEpsilon {
            y.field("max_epsilon", String(epsilon), indent: 1, comment: "require DP with at most this epsilon")
        } else {
            y.comment("max_epsilon: 1.0   # uncomment to require differential privacy", indent: 1)
        }
        y.field("require_secure_aggregation", self.requireSecureAggregation ? "true" : "false", indent: 1)
        y.comment("analytics: {min_cell_count: \(self.analytics.minimumCellCount)}   # statistics queries (with statistics in allowed_tasks)", indent: 1)
        if self.psi.allowMembers {
            y.field("psi", "{allow_members: true}", indent: 1, comment: "private set intersections may reveal which identifiers are shared")
        } else {
            y.comment("psi: {allow_members: false}   # private set intersections (with psi in allowed_tasks): counts only", indent: 1)
        }
        if self.reproducibleNoise {
            y.field("reproducible_noise", "true", indent: 1, comment: "privacy noise from the job seed: reproducible, protects nothing")
        }
    }
}
