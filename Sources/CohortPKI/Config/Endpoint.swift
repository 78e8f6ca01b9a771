import Foundation

/// A host and TCP port to dial or listen on.
public struct Endpoint: Codable, Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 7443

    public var host: String
    public var port: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case host, port }

    public init(host: String, port: Int = Endpoint.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Decodes `{host, port}`; `host` is required, `port` defaults to 7443.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.host = try c.decode(String.self, forKey: .host)
        self.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? Self.defaultPort
    }

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// Checks the host is non-empty and the port in 1...65535.
    func validate(key: String, source: String) throws(PKIError) {
        guard !self.host.trimmingCharacters(in: [" ", "\t"]).isEmpty else {
            throw PKIError(.invalidConfig, file: source, key: "\(key).host", "the host is empty")
        }
        guard (1...65535).contains(self.port) else {
            throw PKIError(.invalidConfig, file: source, key: "\(key).port", "\(self.port) is not a TCP port",
                           hint: "use 1...65535")
        }
    }

    /// `key:` followed by indented `host:` and `port:` lines.
    func write(to y: inout YAMLText, key: String, comment: String) {
        y.section(key, comment: comment)
        y.field("host", YAMLText.quote(self.host), indent: 1)
        y.field("port", String(self.port), indent: 1)
    }
}
