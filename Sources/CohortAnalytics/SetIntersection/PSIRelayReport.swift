public import CohortData
public import Foundation

/// What the coordinator saw of a private set intersection: every message it relayed (counted, never opened) and the
/// cardinality the receiver released. The same report comes from an in-process run and from the network.
public struct PSIRelayReport: Sendable, Hashable, Codable {
    public var session: String
    public var parties: [String]
    public var receiver: String
    public var output: String
    public var channel: String
    /// The size of the intersection, as the receiver released it (nil if it never did).
    public var releasedCardinality: Int?
    public var messagesRelayed: Int
    public var payloadBytes: Int
    public var messagesByKind: [String: Int]

    public init(parameters p: PSIParameters, transcript: [PSIMessage], released: Int?) {
        self.session = p.session
        self.parties = p.parties
        self.receiver = p.receiver
        self.output = p.output.rawValue
        self.channel = p.channel.rawValue
        self.releasedCardinality = released
        self.messagesRelayed = transcript.count
        self.payloadBytes = transcript.reduce(0) { $0 + $1.payloadSize }
        var kinds = [String: Int]()
        for m in transcript { kinds[m.body.kind, default: 0] += 1 }
        self.messagesByKind = kinds
    }

    /// One line: what was relayed and what the coordinator learned.
    public var relayLine: String {
        "Coordinator relayed \(self.messagesRelayed) messages (\(self.payloadBytes) payload bytes: "
            + self.messagesByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            + ") and learned only the released cardinality: \(self.releasedCardinality.map(String.init) ?? "none")"
    }
}

extension PSIMessage.Body {
    /// The message kind, for counts and logs.
    public var kind: String {
        switch self {
        case .hello: "hello"
        case .blinded: "blinded"
        case .membership: "membership"
        case .cardinality: "cardinality"
        }
    }
}

/// The identifiers a site brings to a private set intersection.
public enum PSIIdentifiers {
    /// The values of the identifier column (`column`, else the schema's `role: id` column) in the site's training
    /// and test rows.
    public static func of(_ site: SiteData, schema: DatasetSchema, column: String?) throws(AnalyticsError) -> [String] {
        guard let name = column ?? schema.columns.first(where: { $0.role == .id })?.name else {
            throw AnalyticsError(.invalidQuery, "the schema has no id column; declare one (role: id) or name the identifier column")
        }
        var ids = [String]()
        for table in [site.train, site.test] {
            guard case .text(let values)? = table.values(of: name) else {
                throw AnalyticsError(.invalidQuery, "column '\(name)' is not an identifier column (role: id) in the schema; declare it so, or name another")
            }
            ids += values
        }
        return ids
    }
}
