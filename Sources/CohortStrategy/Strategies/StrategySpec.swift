/// A serialisable choice of strategy and its parameters, as written in `job.yaml` or on the command line.
///
/// The runtime opens it once into a concrete generic ``Strategy`` (see `CohortRuntime.StrategyOpener`). Robust rules
/// are described in `docs/robust-aggregation.md`.
public enum StrategySpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case fedAvg(serverLearningRate: Float = 1)
    case fedAvgM(serverLearningRate: Float = 1, momentum: Float = 0.9)
    /// FedAvg with a proximal term `mu/2 ||w - w_global||^2` in local training (Li et al., MLSys 2020).
    case fedProx(mu: Float)
    case scaffold(serverLearningRate: Float = 1)
    case fedOpt(FedOpt.Method, serverLearningRate: Float = 0.1, beta1: Float = 0.9, beta2: Float = 0.99, tau: Float = 1e-9)
    /// One site per round, in name order, continuing from the previous site's model.
    case cyclic
    /// ``CoordinateMedian``.
    case median
    /// ``TrimmedMean`` with trim fraction β.
    case trimmedMean(beta: Double)
    /// ``Krum`` selecting one update.
    case krum(byzantine: Int)
    /// Multi-Krum: ``Krum`` averaging `selected` updates (nil: `n - f`).
    case multiKrum(byzantine: Int, selected: Int? = nil)
    /// ``Bulyan``.
    case bulyan(byzantine: Int)
    /// ``NormBound``.
    case normBound(multiple: Double = 3, mode: NormBound.Mode = .clip)

    /// Names accepted by `--strategy`.
    public static let names = ["fedavg", "fedavgm", "fedprox", "scaffold", "fedadam", "fedyogi", "fedadagrad", "cyclic"]
        + Self.robustNames

    /// Names of the robust rules (`--robust`, and `strategy.name` in `job.yaml`).
    public static let robustNames = ["median", "trimmed-mean", "krum", "multi-krum", "bulyan", "norm-bound"]

    /// Defaults of the robust rules' parameters when not given.
    public enum Defaults {
        /// Assumed Byzantine sites `f`.
        public static let byzantine = 1
        /// Trim fraction β.
        public static let trimFraction = 0.1
        /// Norm bound as a multiple of the median norm.
        public static let normMultiple = 3.0
    }

    /// Parses a strategy name; parameters not given take their defaults (``Defaults`` for the robust rules).
    ///
    /// Returns nil for an unknown name; ``validate(siteCount:)`` checks the parameters.
    public init?(name: String, serverLearningRate: Float? = nil, momentum: Float? = nil, mu: Float? = nil,
                 beta1: Float? = nil, beta2: Float? = nil, tau: Float? = nil, byzantine: Int? = nil,
                 selected: Int? = nil, trimFraction: Double? = nil, normMultiple: Double? = nil,
                 normMode: NormBound.Mode? = nil) {
        let f = byzantine ?? Defaults.byzantine
        switch name.lowercased() {
        case "fedavg": self = .fedAvg(serverLearningRate: serverLearningRate ?? 1)
        case "fedavgm": self = .fedAvgM(serverLearningRate: serverLearningRate ?? 1, momentum: momentum ?? 0.9)
        case "fedprox": self = .fedProx(mu: mu ?? 0.01)
        case "scaffold": self = .scaffold(serverLearningRate: serverLearningRate ?? 1)
        case "cyclic": self = .cyclic
        case "fedadam", "fedyogi", "fedadagrad":
            let method = FedOpt.Method(rawValue: String(name.lowercased().dropFirst(3)))!
            self = .fedOpt(method, serverLearningRate: serverLearningRate ?? 0.1, beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.99, tau: tau ?? 1e-9)
        case "median": self = .median
        case "trimmed-mean": self = .trimmedMean(beta: trimFraction ?? Defaults.trimFraction)
        case "krum": self = .krum(byzantine: f)
        case "multi-krum": self = .multiKrum(byzantine: f, selected: selected)
        case "bulyan": self = .bulyan(byzantine: f)
        case "norm-bound": self = .normBound(multiple: normMultiple ?? Defaults.normMultiple, mode: normMode ?? .clip)
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
        case .median: "median"
        case .trimmedMean: "trimmed-mean"
        case .krum: "krum"
        case .multiKrum: "multi-krum"
        case .bulyan: "bulyan"
        case .normBound: "norm-bound"
        }
    }

    /// Whether a regional tier can stand in for its sites: the rule applies the example-weighted mean of the sites'
    /// deltas, which exact partial sums reproduce bit for bit (SCAFFOLD's control variates, Cyclic's sequence and
    /// the robust rules' individual updates do not pass through a sum).
    public var passesRegionalSums: Bool {
        switch self {
        case .fedAvg, .fedAvgM, .fedProx, .fedOpt: true
        default: false
        }
    }

    /// Whether the rule is one of the robust rules, which need every individual update (a ``BufferedAggregator``),
    /// so cannot run under secure aggregation.
    public var needsIndividualUpdates: Bool {
        switch self {
        case .fedAvg, .fedAvgM, .fedProx, .scaffold, .fedOpt, .cyclic: false
        case .median, .trimmedMean, .krum, .multiKrum, .bulyan, .normBound: true
        }
    }

    /// The assumed number of Byzantine sites, for the rules that take one.
    public var byzantine: Int? {
        switch self {
        case .krum(let f), .multiKrum(let f, _), .bulyan(let f): f
        default: nil
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
        case .median: "coordinate-wise median"
        case .trimmedMean(let b): "trimmed mean (β \(b))"
        case .krum(let f): "Krum (f \(f))"
        case .multiKrum(let f, let m): "Multi-Krum (f \(f), m \(m.map(String.init) ?? "n - f"))"
        case .bulyan(let f): "Bulyan (f \(f))"
        case .normBound(let k, let mode): "norm bound (\(k) × median norm, \(mode.rawValue))"
        }
    }

    /// Checks the parameters, and, given the number of sites, that the rule can run on that many.
    ///
    /// - Throws: ``StrategySpecError`` naming the parameter (`byzantine`, `selected`, `trim_fraction`,
    ///   `norm_multiple`).
    public func validate(siteCount: Int? = nil) throws(StrategySpecError) {
        func check(_ ok: Bool, _ key: String, _ message: @autoclosure () -> String) throws(StrategySpecError) {
            if !ok { throw StrategySpecError(key: key, message: message()) }
        }
        switch self {
        case .fedAvg, .fedAvgM, .fedProx, .scaffold, .fedOpt, .cyclic, .median:
            return
        case .trimmedMean(let beta):
            try check(beta >= 0 && beta < 0.5, "trim_fraction", "must be in [0, 0.5), not \(beta)")
        case .krum(let f), .multiKrum(let f, _):
            try check(f >= 0, "byzantine", "cannot be negative")
            if case .multiKrum(_, let m?) = self { try check(m >= 1, "selected", "must be at least 1") }
            guard let n = siteCount else { return }
            try check(n >= 2 * f + 3, "byzantine",
                      "\(self.name) with f = \(f) Byzantine sites needs at least \(2 * f + 3) sites (n >= 2f + 3); there are \(n)")
            if case .multiKrum(_, let m?) = self {
                try check(m <= n, "selected", "is \(m), but there are only \(n) sites")
            }
        case .bulyan(let f):
            try check(f >= 0, "byzantine", "cannot be negative")
            if let n = siteCount { try Bulyan(byzantine: f).validate(siteCount: n) }
        case .normBound(let k, _):
            try check(k >= 1 && k.isFinite, "norm_multiple", "must be at least 1 (a smaller bound cuts the majority), not \(k)")
        }
    }
}

/// A strategy parameter that cannot work, naming the parameter.
public struct StrategySpecError: Error, Hashable, CustomStringConvertible {
    /// The parameter, as named in `job.yaml`.
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(self.key): \(self.message)" }
}
