/// An audit entry to append in the same transaction as a state change, e.g. a round's commit.
public struct AuditEvent: Sendable, Hashable {
    /// Who caused the event: a certificate's common name, or `coordinator`.
    public var actor: String
    /// What happened, e.g. `round.committed`.
    public var event: String
    /// Details, stored as canonical JSON.
    public var payload: [String: LogValue]
    /// Lowercase hex SHA-256 digests of bytes the event refers to.
    public var contentHashes: [String]

    public init(actor: String, event: String, payload: [String: LogValue] = [:], contentHashes: [String] = []) {
        self.actor = actor
        self.event = event
        self.payload = payload
        self.contentHashes = contentHashes
    }
}
