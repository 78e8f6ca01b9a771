public import CohortModel
public import CohortTensor

/// SCAFFOLD (Karimireddy et al., "SCAFFOLD: Stochastic Controlled Averaging for Federated Learning", ICML 2020),
/// option II: control variates correct each site's local steps for the drift between its gradient and the
/// federation's.
///
/// The server keeps `c` and sends it with the model; site i keeps its own `c_i` (at the site, across rounds) and
/// trains with every gradient corrected by `c - c_i`. After K local SGD steps of size η it sets
/// `c_i+ = c_i - c + (x - y_i) / (K η)` and returns `Δy_i = y_i - x` and `Δc_i = c_i+ - c_i`. The server applies
/// `x += η_g mean(Δy)` and `c += (|S| / N) mean(Δc)`, means taken uniformly over the answering sites.
public struct Scaffold: Strategy {
    public struct State: Sendable, Hashable, Codable {
        /// The server control variate.
        public var control: [Float]
    }

    public var serverLearningRate: Float

    public init(serverLearningRate: Float = 1) {
        self.serverLearningRate = serverLearningRate
    }

    public var name: String { "scaffold" }

    public func initialState(for global: ModelParameters) -> State {
        State(control: [Float](repeating: 0, count: global.count))
    }

    public func configureRound(_ context: RoundContext, state: State) -> RoundPlan {
        var plan = self.configureRound(context)
        plan.instructions.serverControl = state.control
        return plan
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> ScaffoldAggregator {
        ScaffoldAggregator(parameterCount: global.count, expectedSites: Set(plan.participants), availableCount: plan.availableCount)
    }

    public func finishRound(global: ModelParameters, aggregator: ScaffoldAggregator, state: inout State) -> ModelParameters {
        var next = global
        next.flat.addScaled(aggregator.deltas.weightedMean(), by: self.serverLearningRate)
        let fraction = Float(aggregator.acceptedSites.count) / Float(max(1, aggregator.availableCount))
        state.control.addScaled(aggregator.controlDeltas.weightedMean(), by: fraction)
        return next
    }
}

/// Accumulates SCAFFOLD's model and control-variate updates (uniform weights, exact sums).
public struct ScaffoldAggregator: UpdateAggregator {
    public private(set) var deltas: ExactAccumulator
    public private(set) var controlDeltas: ExactAccumulator
    public let expectedSites: Set<String>
    public let availableCount: Int
    public private(set) var acceptedSites: [String] = []
    public private(set) var siteTraining: [String: SiteTrainingRecord] = [:]

    public init(parameterCount: Int, expectedSites: Set<String>, availableCount: Int) {
        self.deltas = ExactAccumulator(count: parameterCount)
        self.controlDeltas = ExactAccumulator(count: parameterCount)
        self.expectedSites = expectedSites
        self.availableCount = availableCount
    }

    public mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
        try UpdateChecks.check(update, expected: self.expectedSites, accepted: self.acceptedSites, length: self.deltas.count)
        guard let c = update.controlDelta else {
            throw SiteFailure(site: update.site, code: .rejected, message: "a SCAFFOLD update must carry the site's control-variate change")
        }
        guard c.count == self.deltas.count, c.allFinite else {
            throw SiteFailure(site: update.site, code: .rejected, message: "the control-variate change has the wrong length or non-finite values")
        }
        var d = self.deltas, cd = self.controlDeltas
        do throws(AccumulatorError) {
            try d.add(update.delta, weight: 1)
            try cd.add(c, weight: 1)
        } catch {
            throw SiteFailure(site: update.site, code: .rejected, message: error.description)
        }
        self.deltas = d
        self.controlDeltas = cd
        self.acceptedSites.append(update.site)
        self.siteTraining[update.site] = SiteTrainingRecord(update)
    }
}

/// SCAFFOLD's site-side arithmetic, shared by the site executor and tests.
public enum ScaffoldSite {
    /// The gradient correction for local training: `c - c_i`.
    public static func correction(server c: [Float], site ci: [Float]) -> [Float] {
        var out = c
        out.addScaled(ci, by: -1)
        return out
    }

    /// After local training from `global` to `local` in `steps` SGD steps of size `learningRate`: the site's new
    /// control variate `c_i+ = c_i - c + (x - y) / (K η)` and its change `c_i+ - c_i`.
    public static func update(global x: [Float], local y: [Float], steps: Int, learningRate: Float, server c: [Float], site ci: [Float])
        -> (newControl: [Float], controlDelta: [Float])
    {
        let scale = 1 / (Float(max(1, steps)) * learningRate)
        var delta = x
        delta.addScaled(y, by: -1)
        delta.scale(by: scale)
        delta.addScaled(c, by: -1)  // Δc = -c + (x - y)/(Kη)
        var next = ci
        next.addScaled(delta, by: 1)
        return (next, delta)
    }
}
