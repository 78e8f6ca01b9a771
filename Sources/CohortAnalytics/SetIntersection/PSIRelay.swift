/// The coordinator's side of a private set intersection: it checks addresses and parameters and forwards
/// messages; it never opens a payload. It learns the parties' set sizes (from message lengths) and the
/// cardinality the receiver releases.
public struct PSIRelay: Sendable {
    public let parameters: PSIParameters
    /// The released cardinality, once the receiver has sent it.
    public private(set) var cardinality: Int?

    public init(parameters: PSIParameters) throws(AnalyticsError) {
        try parameters.validate()
        self.parameters = parameters
    }

    /// What the relay does with a message.
    public enum Action: Sendable, Hashable {
        /// Deliver to the party named in `to`.
        case deliver(PSIMessage)
        /// The receiver released the intersection's size.
        case released(Int)
    }

    /// Accepts a message from a party.
    public mutating func relay(_ message: PSIMessage) throws(AnalyticsError) -> Action {
        if let diff = self.parameters.differences(from: message.parameters) {
            throw AnalyticsError(.parameterMismatch, "a message from '\(message.from)' uses other protocol parameters (\(diff)); every party must join the same run")
        }
        guard self.parameters.parties.contains(message.from) else {
            throw AnalyticsError(.protocolViolation, "'\(message.from)' is not a party of this intersection")
        }
        if message.to == PSIMessage.coordinator {
            guard case .cardinality(let n) = message.body, message.from == self.parameters.receiver else {
                throw AnalyticsError(.protocolViolation, "only the receiver sends the coordinator a message, and only the cardinality")
            }
            self.cardinality = n
            return .released(n)
        }
        guard self.parameters.parties.contains(message.to), message.to != message.from else {
            throw AnalyticsError(.protocolViolation, "'\(message.to)' is not another party of this intersection")
        }
        return .deliver(message)
    }
}
