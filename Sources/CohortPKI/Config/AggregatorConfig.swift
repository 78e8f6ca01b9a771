public import Foundation

/// A regional aggregator's kit configuration, `aggregator.yaml`.
///
/// An aggregator is a coordinator to its region's sites (it listens for them with its own certificate) and a site
/// to its upstream coordinator (it dials out). Keys (snake_case; unknown keys are errors):
/// - `name`, `project` (strings, required): the certificate's CN and project.
/// - `upstream` (`{host, port}`, required): the coordinator (or a higher aggregator) this aggregator joins.
/// - `listen` (`{host, port}`, default `{host: "0.0.0.0", port: 7443}`): where the region's sites connect.
/// - `public_host` (string, default `localhost`): the name the region's sites dial (in the certificate's SAN).
/// - `sites` (list of names): the region's sites, as provisioned; a job waits for them to connect.
/// - `min_sites` (integer, default 2): the fewest sites whose sum this aggregator passes up. With fewer, the region
///   sends nothing for the round, so the upstream never sees one site's update through the region.
/// - `state_dir`, `heartbeat_seconds`, `max_message_bytes`, `max_update_bytes`, `stall_timeout_seconds`: as in
///   ``CoordinatorConfig``, for the region's side.
public struct AggregatorConfig: Codable, Sendable, Hashable {
    public var name: String
    public var project: String
    public var upstream: Endpoint
    public var listen: CoordinatorConfig.Listen
    public var publicHost: String
    public var sites: [String]
    public var minSites: Int
    public var stateDir: String
    public var heartbeatSeconds: Double
    public var maxMessageBytes: Int
    public var maxUpdateBytes: Int
    public var stallTimeoutSeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, project, upstream, listen, sites
        case publicHost = "public_host"
        case minSites = "min_sites"
        case stateDir = "state_dir"
        case heartbeatSeconds = "heartbeat_seconds"
        case maxMessageBytes = "max_message_bytes"
        case maxUpdateBytes = "max_update_bytes"
        case stallTimeoutSeconds = "stall_timeout_seconds"
    }

    public init(name: String, project: String, upstream: Endpoint, listen: CoordinatorConfig.Listen = .init(),
                publicHost: String = "localhost", sites: [String] = [], minSites: Int = 2, stateDir: String = "state",
                heartbeatSeconds: Double = 5, maxMessageBytes: Int = CoordinatorConfig.defaultMaxMessageBytes,
                maxUpdateBytes: Int = CoordinatorConfig.defaultMaxUpdateBytes, stallTimeoutSeconds: Double = 60) {
        self.name = name
        self.project = project
        self.upstream = upstream
        self.listen = listen
        self.publicHost = publicHost
        self.sites = sites
        self.minSites = minSites
        self.stateDir = stateDir
        self.heartbeatSeconds = heartbeatSeconds
        self.maxMessageBytes = maxMessageBytes
        self.maxUpdateBytes = maxUpdateBytes
        self.stallTimeoutSeconds = stallTimeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AggregatorConfig(name: "", project: "", upstream: Endpoint(host: ""))
        self.name = try c.decode(String.self, forKey: .name)
        self.project = try c.decode(String.self, forKey: .project)
        self.upstream = try c.decode(Endpoint.self, forKey: .upstream)
        self.listen = try c.decodeIfPresent(CoordinatorConfig.Listen.self, forKey: .listen) ?? d.listen
        self.publicHost = try c.decodeIfPresent(String.self, forKey: .publicHost) ?? d.publicHost
        self.sites = try c.decodeIfPresent([String].self, forKey: .sites) ?? d.sites
        self.minSites = try c.decodeIfPresent(Int.self, forKey: .minSites) ?? d.minSites
        self.stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir) ?? d.stateDir
        self.heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? d.heartbeatSeconds
        self.maxMessageBytes = try c.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? d.maxMessageBytes
        self.maxUpdateBytes = try c.decodeIfPresent(Int.self, forKey: .maxUpdateBytes) ?? d.maxUpdateBytes
        self.stallTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .stallTimeoutSeconds) ?? d.stallTimeoutSeconds
    }

    /// The region-facing server's settings, as a coordinator's.
    public var server: CoordinatorConfig {
        CoordinatorConfig(name: self.name, project: self.project, listen: self.listen, publicHost: self.publicHost,
                          stateDir: self.stateDir, heartbeatSeconds: self.heartbeatSeconds, maxMessageBytes: self.maxMessageBytes,
                          maxUpdateBytes: self.maxUpdateBytes, stallTimeoutSeconds: self.stallTimeoutSeconds)
    }

    /// The state directory, resolved against the kit directory when relative.
    public func stateDirectory(kit: URL) -> URL { self.server.stateDirectory(kit: kit) }

    /// Checks the server settings, the upstream endpoint, the site names and `min_sites`.
    public func validate(source: String) throws(PKIError) {
        try self.server.validate(source: source)
        try self.upstream.validate(key: "upstream", source: source)
        for (i, site) in self.sites.enumerated() where !ParticipantName.isValid(site) {
            throw PKIError(.invalidConfig, file: source, key: "sites[\(i)]", "'\(site)' is not a valid participant name",
                           hint: ParticipantName.rule)
        }
        try ConfigValidation.positive(self.minSites, key: "min_sites", source: source)
    }

    /// Parses and validates YAML text; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws(PKIError) -> AggregatorConfig {
        let config = try ConfigCoding.decode(Self.self, yaml: yaml, source: source, code: .invalidConfig)
        try config.validate(source: source)
        return config
    }

    /// Loads and validates an `aggregator.yaml` file.
    public static func load(from url: URL) throws(PKIError) -> AggregatorConfig {
        try Self.parse(yaml: ConfigCoding.read(url, what: "aggregator config"), source: url.path)
    }

    /// Commented YAML text of this configuration.
    public func yaml() -> String {
        var y = YAMLText()
        y.comment("Cohort regional aggregator configuration. Identity keys (name, project) must match cert.pem.")
        y.field("name", YAMLText.quote(self.name), comment: "certificate CN")
        y.field("project", YAMLText.quote(self.project))
        self.upstream.write(to: &y, key: "upstream", comment: "the coordinator this region joins")
        self.listen.endpoint.write(to: &y, key: "listen", comment: "where the region's sites connect")
        y.field("public_host", YAMLText.quote(self.publicHost), comment: "the name the region's sites dial (certificate SAN)")
        y.field("sites", YAMLText.list(self.sites), comment: "the region's sites")
        y.field("min_sites", String(self.minSites), comment: "fewest sites in a regional sum sent upstream")
        y.field("state_dir", YAMLText.quote(self.stateDir), comment: "relative to this kit directory")
        y.field("heartbeat_seconds", ConfigValidation.render(self.heartbeatSeconds))
        y.field("max_message_bytes", String(self.maxMessageBytes), comment: "largest single gRPC message")
        y.field("max_update_bytes", String(self.maxUpdateBytes), comment: "largest model update, all chunks")
        y.field("stall_timeout_seconds", ConfigValidation.render(self.stallTimeoutSeconds),
                comment: "drop an upload silent for this long")
        return y.text
    }
}
