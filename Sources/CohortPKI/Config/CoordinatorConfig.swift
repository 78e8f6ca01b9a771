public import Foundation

/// The coordinator's kit configuration, `coordinator.yaml`.
///
/// Keys (snake_case; unknown keys are errors):
/// - `name` (string, required): the coordinator's certificate CN.
/// - `project` (string, required): the project name.
/// - `listen` (`{host, port}`, default `{host: "0.0.0.0", port: 7443}`): where the gRPC server binds.
/// - `public_host` (string, default `localhost`): the name sites dial (in the certificate's SAN).
/// - `state_dir` (string, default `state`): the coordinator's database and models, relative to the kit.
/// - `heartbeat_seconds` (number, default 5): how often connected sites are expected to check in.
/// - `max_message_bytes` (integer, default 4 MiB): the largest single gRPC message.
/// - `max_update_bytes` (integer, default 2 GiB): the largest model update, summed over its chunks.
/// - `round_timeout_seconds` (number, default 600): how long a round waits for results.
/// - `stall_timeout_seconds` (number, default 60): how long a silent upload may stall before it is dropped.
public struct CoordinatorConfig: Codable, Sendable, Hashable {
    /// Where the coordinator listens.
    public struct Listen: Codable, Sendable, Hashable {
        public var host: String
        public var port: Int

        enum CodingKeys: String, CodingKey, CaseIterable { case host, port }

        public init(host: String = "0.0.0.0", port: Int = Endpoint.defaultPort) {
            self.host = host
            self.port = port
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.host = try c.decodeIfPresent(String.self, forKey: .host) ?? "0.0.0.0"
            self.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? Endpoint.defaultPort
        }

        /// As an ``Endpoint``.
        public var endpoint: Endpoint { Endpoint(host: self.host, port: self.port) }
    }

    public static let defaultMaxMessageBytes = 4 * 1024 * 1024
    public static let defaultMaxUpdateBytes = 2 * 1024 * 1024 * 1024

    public var name: String
    public var project: String
    public var listen: Listen
    public var publicHost: String
    public var stateDir: String
    public var heartbeatSeconds: Double
    public var maxMessageBytes: Int
    public var maxUpdateBytes: Int
    public var roundTimeoutSeconds: Double
    public var stallTimeoutSeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, project, listen
        case publicHost = "public_host"
        case stateDir = "state_dir"
        case heartbeatSeconds = "heartbeat_seconds"
        case maxMessageBytes = "max_message_bytes"
        case maxUpdateBytes = "max_update_bytes"
        case roundTimeoutSeconds = "round_timeout_seconds"
        case stallTimeoutSeconds = "stall_timeout_seconds"
    }

    public init(name: String, project: String, listen: Listen = Listen(), publicHost: String = "localhost",
                stateDir: String = "state", heartbeatSeconds: Double = 5,
                maxMessageBytes: Int = CoordinatorConfig.defaultMaxMessageBytes,
                maxUpdateBytes: Int = CoordinatorConfig.defaultMaxUpdateBytes,
                roundTimeoutSeconds: Double = 600, stallTimeoutSeconds: Double = 60) {
        self.name = name
        self.project = project
        self.listen = listen
        self.publicHost = publicHost
        self.stateDir = stateDir
        self.heartbeatSeconds = heartbeatSeconds
        self.maxMessageBytes = maxMessageBytes
        self.maxUpdateBytes = maxUpdateBytes
        self.roundTimeoutSeconds = roundTimeoutSeconds
        self.stallTimeoutSeconds = stallTimeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CoordinatorConfig(name: "", project: "")
        self.name = try c.decode(String.self, forKey: .name)
        self.project = try c.decode(String.self, forKey: .project)
        self.listen = try c.decodeIfPresent(Listen.self, forKey: .listen) ?? defaults.listen
        self.publicHost = try c.decodeIfPresent(String.self, forKey: .publicHost) ?? defaults.publicHost
        self.stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir) ?? defaults.stateDir
        self.heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? defaults.heartbeatSeconds
        self.maxMessageBytes = try c.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? defaults.maxMessageBytes
        self.maxUpdateBytes = try c.decodeIfPresent(Int.self, forKey: .maxUpdateBytes) ?? defaults.maxUpdateBytes
        self.roundTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .roundTimeoutSeconds) ?? defaults.roundTimeoutSeconds
        self.stallTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .stallTimeoutSeconds) ?? defaults.stallTimeoutSeconds
    }

    /// The state directory, resolved against the kit directory when relative.
    public func stateDirectory(kit: URL) -> URL {
        self.stateDir.hasPrefix("/") ? URL(fileURLWithPath: self.stateDir, isDirectory: true)
            : kit.appendingPathComponent(self.stateDir, isDirectory: true)
    }

    /// Checks names, ports, sizes and timeouts.
    public func validate(source: String) throws(PKIError) {
        try ConfigValidation.identity(name: self.name, project: self.project, source: source)
        try Endpoint(host: self.listen.host, port: self.listen.port).validate(key: "listen", source: source)
        guard ProjectDefinition.isValidHost(self.publicHost) else {
            throw PKIError(.invalidConfig, file: source, key: "public_host",
                           "'\(self.publicHost)' is not a DNS name or IP address")
        }
        try ConfigValidation.directory(self.stateDir, key: "state_dir", source: source)
        try ConfigValidation.seconds(self.heartbeatSeconds, key: "heartbeat_seconds", source: source)
        try ConfigValidation.positive(self.maxMessageBytes, key: "max_message_bytes", source: source)
        try ConfigValidation.positive(self.maxUpdateBytes, key: "max_update_bytes", source: source)
        try ConfigValidation.seconds(self.roundTimeoutSeconds, key: "round_timeout_seconds", source: source)
        try ConfigValidation.seconds(self.stallTimeoutSeconds, key: "stall_timeout_seconds", source: source)
    }

    /// Parses and validates YAML text; `source` names the file in errors.
    public static func parse(yaml: String, source: String) throws(PKIError) -> CoordinatorConfig {
        let config = try ConfigCoding.decode(Self.self, yaml: yaml, source: source, code: .invalidConfig)
        try config.validate(source: source)
        return config
    }

    /// Loads and validates a `coordinator.yaml` file.
    public static func load(from url: URL) throws(PKIError) -> CoordinatorConfig {
        try Self.parse(yaml: ConfigCoding.read(url, what: "coordinator config"), source: url.path)
    }

    /// Commented YAML text of this configuration.
    public func yaml() -> String {
        var y = YAMLText()
        y.comment("Cohort coordinator configuration. Identity keys (name, project) must match cert.pem.")
        y.field("name", YAMLText.quote(self.name), comment: "certificate CN")
        y.field("project", YAMLText.quote(self.project))
        self.listen.endpoint.write(to: &y, key: "listen", comment: "where the gRPC server binds")
        y.field("public_host", YAMLText.quote(self.publicHost), comment: "the name sites dial (in the certificate SAN)")
        y.field("state_dir", YAMLText.quote(self.stateDir), comment: "relative to this kit directory")
        y.field("heartbeat_seconds", ConfigValidation.render(self.heartbeatSeconds))
        y.field("max_message_bytes", String(self.maxMessageBytes), comment: "largest single gRPC message")
        y.field("max_update_bytes", String(self.maxUpdateBytes), comment: "largest model update, all chunks")
        y.field("round_timeout_seconds", ConfigValidation.render(self.roundTimeoutSeconds))
        y.field("stall_timeout_seconds", ConfigValidation.render(self.stallTimeoutSeconds),
                comment: "drop an upload silent for this long")
        return y.text
    }
}
