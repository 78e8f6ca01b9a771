/// A serialisable choice of strategy and its parameters, as written in `job.yaml` or on the command line.
///
/// The runtime opens it once into a concrete generic ``Strategy`` (`Simulation.federate` in `CohortRuntime`,
/// `JobRunner` in `CohortCoordinator`). Robust rules are described in `docs/robust-aggregation.md`.
public enum StrategySpec: Sendable, Hashable, Codable, CustomStringConvertible {
    case fedAvg(serverLearningRate: Float = 1)
    case fedAvgM(serverLearningRate: Float = 1, momentum: Float = 0.9)
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
    public static let names = ["fedavg", "fedavgm"] + Self.robustNames

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

    /// Parses a strategy name; parameters not given take their defaults (``Defaults``).
    ///
    /// Returns nil for an unknown name; ``validate(siteCount:)`` checks the parameters.
    public init?(name: String, serverLearningRate: Float? = nil, momentum: Float? = nil, byzantine: Int? = nil,
                 selected: Int? = nil, trimFraction: Double? = nil, normMultiple: Double? = nil,
                 normMode: NormBound.Mode? = nil) {
        let f = byzantine ?? Defaults.byzantine
        switch name.lowercased() {
        case "fedavg": self = .fedAvg(serverLearningRate: serverLearningRate ?? 1)
        case "fedavgm": self = .fedAvgM(serverLearningRate: serverLearningRate ?? 1, momentum: momentum ?? 0.9)
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
        case .median: "median"
        case .trimmedMean: "trimmed-mean"
        case .krum: "krum"
        case .multiKrum: "multi-krum"
        case .bulyan: "bulyan"
        case .normBound: "norm-bound"
        }
    }

    /// Whether the rule needs every individual update (a ``BufferedAggregator``), so cannot run under secure
    /// aggregation.
    public var needsIndividualUpdates: Bool {
        switch self {
        case .fedAvg, .fedAvgM: false
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

    public var description: String {
        switch self {
        case .fedAvg(let lr): lr == 1 ? "FedAvg" : "FedAvg (server lr \(lr))"
        case .fedAvgM(let lr, let m): "FedAvgM (server lr \(lr), momentum \(m))"
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
        case .fedAvg, .fedAvgM, .median:
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
