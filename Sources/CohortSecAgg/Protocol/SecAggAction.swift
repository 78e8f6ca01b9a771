/// What a state machine asks its driver to do after handling a message.
public enum SecAggAction: Sendable {
    /// A client sends a message to the server.
    case sendToServer(SecAggMessage)
    /// The server sends a message to one participant.
    case send(to: String, SecAggMessage)
    /// The server recovered the aggregate; the round is over.
    case result(SecAggResult)
    /// The round (server) or this client's participation (client) ended without a result; nothing was revealed.
    case abort(SecAggError)
}
