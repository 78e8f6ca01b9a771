/// How a job makes its training differentially private, and what that costs.
///
/// Three modes, after Flower's and TensorFlow Federated's DP wrappers:
///
/// - ``Mode/central(noiseMultiplier:clip:adaptive:)``: each site's model update is clipped to L2 norm `clip`, the
///   coordinator sums the updates and adds `N(0, (z·clip)²)` per coordinate (McMahan, Ramage, Talwar and Zhang,
///   "Learning Differentially Private Recurrent Language Models", 2018). The unit of privacy is a whole site: the
///   guarantee covers adding or removing one site's entire dataset. The coordinator sees individual updates, so it
///   must be trusted. With `adaptive`, the clip norm follows a quantile of update norms (``AdaptiveClipping``); the
///   accountant is given the total `z`, and the update noise uses
///   ``AdaptiveClipping/updateNoiseMultiplier(totalNoiseMultiplier:)``.
/// - ``Mode/distributed(noiseMultiplier:clip:)``: the same clipped sum and total noise, but each of the `n` sites
///   adds its share `N(0, (z·clip)²/n)` before secure aggregation, so no one sees an un-noised update. The accounting
///   is that of central mode (the discretisation and modular wrap-around of secure aggregation are not accounted).
/// - ``Mode/local(noiseMultiplier:clip:)``: every site trains with DP-SGD (Abadi et al., "Deep Learning with
///   Differential Privacy", 2016): per-example gradients clipped to `clip`, Gaussian noise `z·clip` on each batch
///   sum, batches drawn by Poisson sampling at rate `q = batch size / n`. The unit is one record, the guarantee is
///   per site (sites hold disjoint data), and nothing downstream needs to be trusted.
public struct DPConfiguration: Sendable, Hashable, Codable {
    /// Where the noise is added and what it protects.
    public enum Mode: Sendable, Hashable, Codable {
        /// Server-side noise on the sum of clipped site updates; site-level privacy.
        case central(noiseMultiplier: Double, clip: Double, adaptive: AdaptiveClipping.Settings?)
        /// Site-side noise shares under secure aggregation; site-level privacy.
        case distributed(noiseMultiplier: Double, clip: Double)
        /// Example-level DP-SGD at each site; record-level privacy, per site.
        case local(noiseMultiplier: Double, clip: Double)
    }

    public var mode: Mode

    public init(_ mode: Mode) {
        self.mode = mode
    }

    /// Central DP (see ``Mode/central(noiseMultiplier:clip:adaptive:)``).
    public static func central(
        noiseMultiplier: Double, clip: Double, adaptive: AdaptiveClipping.Settings? = nil
    ) -> Self {
        Self(.central(noiseMultiplier: noiseMultiplier, clip: clip, adaptive: adaptive))
    }

    /// Distributed DP (see ``Mode/distributed(noiseMultiplier:clip:)``).
    public static func distributed(noiseMultiplier: Double, clip: Double) -> Self {
        Self(.distributed(noiseMultiplier: noiseMultiplier, clip: clip))
    }

    /// Local, example-level DP-SGD (see ``Mode/local(noiseMultiplier:clip:)``).
    public static func local(noiseMultiplier: Double, clip: Double) -> Self {
        Self(.local(noiseMultiplier: noiseMultiplier, clip: clip))
    }

    /// The noise multiplier `z` (noise standard deviation over clip norm) that the accountant is given.
    public var noiseMultiplier: Double {
        switch self.mode {
        case .central(let z, _, _), .distributed(let z, _), .local(let z, _): z
        }
    }

    /// The (initial) clip norm.
    public var clip: Double {
        switch self.mode {
        case .central(_, let c, _), .distributed(_, let c), .local(_, let c): c
        }
    }

    /// Checks the noise multiplier, clip norm and adaptive settings.
    public func validate() throws(PrivacyError) {
        try PrivacyError.checkNoiseMultiplier(self.noiseMultiplier, allowZero: false)
        guard self.clip.isFinite, self.clip > 0 else {
            throw PrivacyError(.invalidArgument, "clip norm \(self.clip) must be finite and positive",
                               hint: "pick a norm near typical update (central) or gradient (local) norms")
        }
        if case .central(_, _, let adaptive?) = self.mode { try adaptive.validate() }
    }

    /// The privacy this job spends, per the ``RDPAccountant`` with the improved conversion.
    ///
    /// - Parameters:
    ///   - rounds: training rounds, `≥ 1`.
    ///   - samplingRate: central and distributed: the probability that a site takes part in a round (sites per
    ///     round / sites, 1 when every site joins every round). Local: the Poisson batch rate at one site,
    ///     `q = batch size / examples at the site`.
    ///   - delta: the target `δ ∈ (0, 1)`, below 1 / (sites) for central and distributed modes and below
    ///     1 / (examples at the site) for local mode.
    ///   - localSteps: local mode only: optimiser steps per round at a site, `≥ 1`.
    ///   - orders: the RDP orders.
    /// - Throws: ``PrivacyError`` `.invalidArgument` for a parameter outside its domain.
    public func epsilon(
        rounds: Int, samplingRate: Double, delta: Double, localSteps: Int = 1,
        orders: [Double] = RDPAccountant.defaultOrders
    ) throws(PrivacyError) -> PrivacySpend {
        try self.validate()
        try PrivacyError.checkSteps(rounds, minimum: 1)
        try PrivacyError.checkSamplingRate(samplingRate, allowZero: false)
        try PrivacyError.checkDelta(delta)
        let steps: Int
        switch self.mode {
        case .central, .distributed:
            steps = rounds
        case .local:
            try PrivacyError.checkSteps(localSteps, minimum: 1)
            let (product, overflow) = rounds.multipliedReportingOverflow(by: localSteps)
            guard !overflow else {
                throw PrivacyError(.invalidArgument, "\(rounds) rounds × \(localSteps) local steps overflows",
                                   hint: "use realistic step counts")
            }
            steps = product
        }
        var accountant = RDPAccountant(orders: orders)
        try accountant.compose(noiseMultiplier: self.noiseMultiplier, samplingRate: samplingRate, steps: steps)
        let (epsilon, order) = accountant.epsilon(delta: delta)
        return PrivacySpend(
            epsilon: epsilon, delta: delta, order: order, noiseMultiplier: self.noiseMultiplier,
            samplingRate: samplingRate, steps: steps, summary: self.summary(samplingRate: samplingRate, steps: steps))
    }

    /// A one-line description for ledgers and logs.
    func summary(samplingRate: Double, steps: Int) -> String {
        switch self.mode {
        case .central(let z, let c, let adaptive):
            let clip = adaptive == nil ? "clip \(c)" : "adaptive clip from \(c) to quantile \(adaptive!.targetQuantile)"
            return "central DP (site-level): Gaussian z = \(z), \(clip), site sampling rate \(samplingRate), "
                + "\(steps) rounds"
        case .distributed(let z, let c):
            return "distributed DP (site-level): Gaussian z = \(z), clip \(c), site sampling rate \(samplingRate), "
                + "\(steps) rounds"
        case .local(let z, let c):
            return "local DP-SGD (record-level): Gaussian z = \(z), clip \(c), batch rate \(samplingRate), "
                + "\(steps) steps"
        }
    }
}
