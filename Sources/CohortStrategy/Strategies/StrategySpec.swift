/// A serialisable choice of strategy and its parameters, as written in `job.yaml` or on the command line.
///
/// The runtime opens it once into a concrete generic ``Strategy`` (see `CohortRuntime`'s `withStrategy`).
public enum StrategySpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case fedAvg(serverLearningRate: Float = 1)
    case fedAvgM(serverLearningRate: Float = 1, momentum: Float = 0.9)

    /// Names accepted by `--strategy`.
    public static let names = ["fedavg", "fedavgm"]

    /// Parses a strategy name with default parameters.
    public init?(name: String, serverLearningRate: Float? = nil, momentum: Float? = nil) {
        switch name.lowercased() {
        case "fedavg": self = .fedAvg(serverLearningRate: serverLearningRate ?? 1)
        case "fedavgm": self = .fedAvgM(serverLearningRate: serverLearningRate ?? 1, momentum: momentum ?? 0.9)
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .fedAvg: "fedavg"
        case .fedAvgM: "fedavgm"
        }
    }

    public var description: String {
        switch self {
        case .fedAvg(let lr): lr == 1 ? "FedAvg" : "FedAvg (server lr \(lr))"
        case .fedAvgM(let lr, let m): "FedAvgM (server lr \(lr), momentum \(m))"
        }
    }
}
