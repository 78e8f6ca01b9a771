public import Foundation

/// One message of a private set intersection, addressed from one party to another (or to the coordinator).
/// The coordinator relays messages without reading their payloads.
public struct PSIMessage: Sendable, Hashable, Codable {
    /// The coordinator's address.
    public static let coordinator = "coordinator"

    public var from: String
    public var to: String
    public var parameters: PSIParameters
    public var body: Body

    /// Message contents.
    public enum Body: Sendable, Hashable, Codable {
        /// An ephemeral X25519 public key for the sealed channel.
        case hello(publicKey: Data)
        /// `owner`'s set blinded by `keys` parties: 32-byte x-coordinates, concatenated (sealed: an AES-GCM box).
        case blinded(owner: String, keys: Int, payload: Data)
        /// For ``PSIParameters/Output/members``: the recipient's own fully blinded set in its order, and the other
        /// parties' intersection (sorted).
        case membership(own: Data, others: Data)
        /// The size of the intersection, released by the receiver.
        case cardinality(Int)
    }

    public init(from: String, to: String, parameters: PSIParameters, body: Body) {
        self.from = from
        self.to = to
        self.parameters = parameters
        self.body = body
    }

    /// Payload bytes (what the message costs on the wire, roughly).
    public var payloadSize: Int {
        switch self.body {
        case .hello(let k): k.count
        case .blinded(_, _, let p): p.count
        case .membership(let a, let b): a.count + b.count
        case .cardinality: 8
        }
    }
}

/// What a party learned.
public struct PSIResult: Sendable, Hashable, Codable {
    /// Identifiers every party holds.
    public var cardinality: Int
    /// This party's own identifiers (as given) that every party holds, when the output is ``PSIParameters/Output/members``.
    public var members: [String]?

    public init(cardinality: Int, members: [String]?) {
        self.cardinality = cardinality
        self.members = members
    }
}
