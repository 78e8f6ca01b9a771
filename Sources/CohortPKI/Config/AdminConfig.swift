public import Foundation

/// An administrator's kit configuration, `admin.yaml`.
///
/// Keys: `name` and `project` (required), `coordinator` (`{host, port}`, required host). Unknown keys are errors.
public struct AdminConfig: Codable, Sendable, Hashable {
    public var name: String
    public var project: String
    public var coordinator: Endpoint

    enum CodingKeys: String, CodingKey, CaseIterable { case name, project, coordinator }

    public init(name: String, project: String, coordinator: Endpoint) {
        self.name = name
        self.project = project
        self.coordinator = coordinator
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.project = try c.decode(String.self, forKey: .project)
        self.coordinator = try c.decode(Endpoint.self, forKey: .coordinator)
    }

    /// Checks names and the coordinator endpoint.
    public func validate(source: String) throws(PKIError) {
        try ConfigValidation.identity(name: self.name, project: self.project, source: source)
        try self.coordinator.validate(key: "coordinator", source: source)
    }

    /// Parses and validates YAML text; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws(PKIError) -> AdminConfig {
        let config = try ConfigCoding.decode(Self.self, yaml: yaml, source: source, code: .invalidConfig)
        try config.validate(source: source)
        return config
    }

    /// Loads and validates an `admin.yaml` file.
    public static func load(from url: URL) throws(PKIError) -> AdminConfig {
        try Self.parse(yaml: ConfigCoding.read(url, what: "admin config"), source: url.path)
    }

    /// Commented YAML text of this configuration.
    public func yaml() -> String {
        var y = YAMLText()
        y.comment("Cohort admin configuration. Identity keys (name, project) must match cert.pem.")
        y.field("name", YAMLText.quote(self.name), comment: "certificate CN")
        y.field("project", YAMLText.quote(self.project))
        self.coordinator.write(to: &y, key: "coordinator", comment: "where jobs are submitted")
        return y.text
    }
}
