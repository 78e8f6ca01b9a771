public import Foundation

/// A site's kit configuration, `site.yaml`.
///
/// Keys (snake_case; unknown keys are errors):
/// - `name` (string, required): the site's certificate CN.
/// - `project` (string, required): the project name.
/// - `coordinator` (`{host, port}`, required host, port default 7443): where the coordinator is.
/// - `state_dir` (string, default `state`): local state, relative to the kit.
/// - `heartbeat_seconds` (number, default 5).
/// - `policy` (``SitePolicy``, defaulted key by key).
public struct SiteConfig: Codable, Sendable, Hashable {
    public var name: String
    public var project: String
    public var coordinator: Endpoint
    public var stateDir: String
    public var heartbeatSeconds: Double
    public var policy: SitePolicy

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, project, coordinator, policy
        case stateDir = "state_dir"
        case heartbeatSeconds = "heartbeat_seconds"
    }

    public init(name: String, project: String, coordinator: Endpoint, stateDir: String = "state",
                heartbeatSeconds: Double = 5, policy: SitePolicy = SitePolicy()) {
        self.name = name
        self.project = project
        self.coordinator = coordinator
        self.stateDir = stateDir
        self.heartbeatSeconds = heartbeatSeconds
        self.policy = policy
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.project = try c.decode(String.self, forKey: .project)
        self.coordinator = try c.decode(Endpoint.self, forKey: .coordinator)
        self.stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir) ?? "state"
        self.heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? 5
        self.policy = try c.decodeIfPresent(SitePolicy.self, forKey: .policy) ?? SitePolicy()
    }

    /// The state directory, resolved against the kit directory when relative.
    public func stateDirectory(kit: URL) -> URL {
        self.stateDir.hasPrefix("/") ? URL(fileURLWithPath: self.stateDir, isDirectory: true)
            : kit.appendingPathComponent(self.stateDir, isDirectory: true)
    }

    /// Checks names, the coordinator endpoint, the heartbeat and the policy.
    public func validate(source: String) throws(PKIError) {
        try ConfigValidation.identity(name: self.name, project: self.project, source: source)
        try self.coordinator.validate(key: "coordinator", source: source)
        try ConfigValidation.directory(self.stateDir, key: "state_dir", source: source)
        try ConfigValidation.seconds(self.heartbeatSeconds, key: "heartbeat_seconds", source: source)
        try self.policy.validate(key: "policy", source: source)
    }

    /// Parses and validates YAML text; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws(PKIError) -> SiteConfig {
        let config = try ConfigCoding.decode(Self.self, yaml: yaml, source: source, code: .invalidConfig)
        try config.validate(source: source)
        return config
    }

    /// Loads and validates a `site.yaml` file.
    public static func load(from url: URL) throws(PKIError) -> SiteConfig {
        try Self.parse(yaml: ConfigCoding.read(url, what: "site config"), source: url.path)
    }

    /// Commented YAML text of this configuration.
    public func yaml() -> String {
        var y = YAMLText()
        y.comment("Cohort site configuration. Identity keys (name, project) must match cert.pem.")
        y.field("name", YAMLText.quote(self.name), comment: "certificate CN")
        y.field("project", YAMLText.quote(self.project))
        self.coordinator.write(to: &y, key: "coordinator", comment: "where this site connects")
        y.field("state_dir", YAMLText.quote(self.stateDir), comment: "relative to this kit directory")
        y.field("heartbeat_seconds", ConfigValidation.render(self.heartbeatSeconds))
        self.policy.write(to: &y, key: "policy")
        return y.text
    }
}
