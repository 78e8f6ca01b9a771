/// A serialisable choice of strategy and its parameters, as written in `job.yaml` or on the command line.
///
/// The runtime opens it once into a concrete generic ``Strategy`` (see `CohortRuntime.StrategyOpener`).
public enum StrategySpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case fedAvg(serverLearningRate: Float = 1)
    case fedAvgM(serverLearningRate: Float = 1, momentum: Float = 0.9)
    /// FedAvg with a proximal term `mu/2 ||w - w_global||^2` in local training (Li et al., MLSys 2020).
    case fedProx(mu: Float)
    case scaffold(serverLearningRate: Float = 1)
    case fedOpt(FedOpt.Method, serverLearningRate: Float = 0.1, beta1: Float = 0.9, beta2: Float = 0.99, tau: Float = 1e-9)
    /// One site per round, in name order, continuing from the previous site's model.
    case cyclic

    /// Names accepted by `--strategy`.
    public static let names = ["fedavg", "fedavgm", "fedprox", "scaffold", "fedadam", "fedyogi", "fedadagrad", "cyclic"]

    /// Parses a strategy name with default parameters.
    public init?(name: String, serverLearningRate: Float? = nil, momentum: Float? = nil, mu: Float? = nil,
                 beta1: Float? = nil, beta2: Float? = nil, tau: Float? = nil) {
        switch name.lowercased() {
        case "fedavg": self = .fedAvg(serverLearningRate: serverLearningRate ?? 1)
        case "fedavgm": self = .fedAvgM(serverLearningRate: serverLearningRate ?? 1, momentum: momentum ?? 0.9)
        case "fedprox": self = .fedProx(mu: mu ?? 0.01)
        case "scaffold": self = .scaffold(serverLearningRate: serverLearningRate ?? 1)
        case "cyclic": self = .cyclic
        case "fedadam", "fedyogi", "fedadagrad":
            let method = FedOpt.Method(rawValue: String(name.lowercased().dropFirst(3)))!
            self = .fedOpt(method, serverLearningRate: serverLearningRate ?? 0.1, beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.99, tau: tau ?? 1e-9)
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .fedAvg: "fedavg"
        case .fedAvgM: "fedavgm"
        case .fedProx: "fedprox"
        case .scaffold: "scaffold"
        case .fedOpt(let m, _, _, _, _): "fed\(m.rawValue)"
        case .cyclic: "cyclic"
        }
    }

    /// The proximal coefficient local training must use (FedProx), else nil.
    public var proximalMu: Float? {
        if case .fedProx(let mu) = self { return mu }
        return nil
    }

    public var description: String {
        switch self {
        case .fedAvg(let lr): lr == 1 ? "FedAvg" : "FedAvg (server lr \(lr))"
        case .fedAvgM(let lr, let m): "FedAvgM (server lr \(lr), momentum \(m))"
        case .fedProx(let mu): "FedProx (mu \(mu))"
        case .scaffold(let lr): lr == 1 ? "SCAFFOLD" : "SCAFFOLD (server lr \(lr))"
        case .fedOpt(let m, let lr, let b1, let b2, let tau):
            "Fed\(m == .adam ? "Adam" : m == .yogi ? "Yogi" : "Adagrad") (server lr \(lr), beta1 \(b1), beta2 \(b2), tau \(tau))"
        case .cyclic: "Cyclic"
        }
    }
}
