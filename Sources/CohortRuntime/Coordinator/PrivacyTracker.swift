public import CohortModel
public import CohortPrivacy
public import CohortStrategy

/// A job's privacy settings: the mechanism and the δ its (ε, δ) is reported at.
public struct PrivacySettings: Sendable, Hashable, Codable {
    public var configuration: DPConfiguration
    public var delta: Double
    /// Mask updates with secure aggregation (distributed DP).
    public var secureAggregation: Bool

    public init(configuration: DPConfiguration, delta: Double = 1e-5, secureAggregation: Bool = false) {
        self.configuration = configuration
        self.delta = delta
        self.secureAggregation = secureAggregation
    }

    /// Checks the mechanism's parameters and δ.
    public func validate() throws(PrivacyError) {
        try self.configuration.validate()
        if case .central(let z, let clip, let adaptive?) = self.configuration.mode {
            // The noised count takes part of the budget: the split must leave some for the update.
            _ = try AdaptiveClipping(initialClipNorm: clip, settings: adaptive).updateNoiseMultiplier(totalNoiseMultiplier: z)
        }
        guard self.delta > 0, self.delta < 1 else {
            throw PrivacyError(.invalidArgument, "delta \(self.delta) must be in (0, 1)",
                               hint: "use a value below 1/(number of sites) for site-level DP, 1/(records) for record-level")
        }
    }

    /// The (ε, δ) a whole job spends at one site: for central and distributed DP, `rounds` sampled Gaussian steps at
    /// the site sampling rate `fraction`; for local DP-SGD, every local step of every round at the site's Poisson
    /// batch rate (batch size / `examples`).
    public func spend(rounds: Int, fraction: Double, training: TrainingConfig, examples: Int) throws(PrivacyError) -> PrivacySpend {
        switch self.configuration.mode {
        case .central, .distributed:
            return try self.configuration.epsilon(rounds: rounds, samplingRate: min(1, fraction), delta: self.delta)
        case .local:
            guard examples > 0 else {
                throw PrivacyError(.invalidArgument, "the site has no training examples", hint: "local DP needs data to account")
            }
            return try self.configuration.epsilon(
                rounds: rounds, samplingRate: min(1, Double(training.batchSize) / Double(examples)), delta: self.delta,
                localSteps: max(1, training.steps(examples: examples)))
        }
    }

    /// The mode's name as written in job files: central, distributed or local.
    public var modeName: String {
        switch self.configuration.mode {
        case .central: "central"
        case .distributed: "distributed"
        case .local: "local"
        }
    }
}

/// The privacy a run has spent after some rounds.
public struct PrivacyStatus: Sendable, Hashable, Codable {
    public var epsilon: Double
    public var delta: Double
    /// The Rényi order that gave the bound.
    public var order: Double
    /// Who the guarantee protects: "site" (central and distributed DP) or "record" (local DP-SGD, the worst site).
    public var unit: String
}

/// Computes the (ε, δ) spent after each round with the RDP accountant: central and distributed DP compose one
/// sampled Gaussian step per round (site sampling rate = the fraction of sites per round); local DP-SGD composes
/// each site's local steps with its own batch sampling rate, and the report is the worst site's.
///
/// RDP curves add under composition, so one round's curve is computed once and added per round.
public struct PrivacyTracker: Sendable {
    let perRound: [String: RDPAccountant]
    let delta: Double
    let unit: String

    public init(settings: PrivacySettings, sites: [SiteInfo], training: TrainingConfig, fraction: Double) throws {
        self.delta = settings.delta
        let z = settings.configuration.noiseMultiplier
        switch settings.configuration.mode {
        case .central, .distributed:
            var a = RDPAccountant()
            try a.compose(noiseMultiplier: z, samplingRate: min(1, max(fraction, 1e-12)), steps: 1)
            self.perRound = ["all": a]
            self.unit = "site"
        case .local:
            var curves = [String: RDPAccountant]()
            for s in sites where s.trainCount > 0 {
                var a = RDPAccountant()
                let q = min(1, Double(training.batchSize) / Double(s.trainCount))
                try a.compose(noiseMultiplier: z, samplingRate: q, steps: training.steps(examples: s.trainCount))
                curves[s.name] = a
            }
            self.perRound = curves
            self.unit = "record"
        }
    }

    /// The (ε, δ) after `rounds` rounds (the worst site for local DP).
    public func status(afterRounds rounds: Int) -> PrivacyStatus {
        var worst = PrivacyStatus(epsilon: 0, delta: self.delta, order: 0, unit: self.unit)
        for (_, one) in self.perRound {
            var total = RDPAccountant(orders: one.orders)
            for _ in 0..<max(0, rounds) { total.compose(one) }
            let (e, order) = total.epsilon(delta: self.delta)
            if e > worst.epsilon || worst.order == 0 { worst = PrivacyStatus(epsilon: e, delta: self.delta, order: order, unit: self.unit) }
        }
        return worst
    }

    /// Each site's (ε, δ) after `rounds` rounds (local DP), or the site-level value for every site.
    public func siteStatus(afterRounds rounds: Int, sites: [String]) -> [String: PrivacyStatus] {
        var out = [String: PrivacyStatus]()
        for s in sites {
            guard let one = self.perRound[s] ?? self.perRound["all"] else { continue }
            var total = RDPAccountant(orders: one.orders)
            for _ in 0..<max(0, rounds) { total.compose(one) }
            let (e, order) = total.epsilon(delta: self.delta)
            out[s] = PrivacyStatus(epsilon: e, delta: self.delta, order: order, unit: self.unit)
        }
        return out
    }
}
