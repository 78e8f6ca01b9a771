public import CohortModel
public import CohortPrivacy
import CohortTensor

/// Central differential privacy for federated averaging (DP-FedAvg: McMahan, Ramage, Talwar, Zhang, "Learning
/// Differentially Private Recurrent Language Models", ICLR 2018), wrapping any ``DeltaServerRule``.
///
/// The coordinator clips each selected site's update to L2 norm C, sums them with equal weight, adds N(0, z²C²) to
/// every coordinate of the sum, and divides by the number of sites selected (a fixed denominator, so one site's
/// participation moves the mean by at most C / m). With adaptive clipping (Andrew et al., NeurIPS 2021) C follows
/// a target quantile of the update norms, using a noised count; the accountant is then charged the effective
/// noise multiplier. The coordinator sees individual updates: use ``DistributedDP`` when it must not.
public struct CentralDP<Inner: DeltaServerRule>: Strategy {
    public struct State: Sendable, Hashable, Codable {
        public var inner: Inner.ServerState
        public var clip: Double
        public var adaptive: AdaptiveClipping?
        public var round: Int
    }

    public let inner: Inner
    public let noiseMultiplier: Double
    public let initialClip: Double
    public let adaptive: AdaptiveClipping.Settings?
    public let noise: ServerNoise

    public init(_ inner: Inner, noiseMultiplier: Double, clip: Double, adaptive: AdaptiveClipping.Settings? = nil, noise: ServerNoise) {
        self.inner = inner
        self.noiseMultiplier = noiseMultiplier
        self.initialClip = clip
        self.adaptive = adaptive
        self.noise = noise
    }

    public var name: String { "central-dp(\(self.inner.name))" }

    /// The noise multiplier applied to the update sum (with adaptive clipping, part of the budget goes to the count).
    public var updateNoiseMultiplier: Double {
        guard let a = self.adaptive, let clipping = try? AdaptiveClipping(initialClipNorm: self.initialClip, settings: a),
              let z = try? clipping.updateNoiseMultiplier(totalNoiseMultiplier: self.noiseMultiplier)
        else { return self.noiseMultiplier }
        return z
    }

    public func initialState(for global: ModelParameters) -> State {
        State(inner: self.inner.initialState(for: global), clip: self.initialClip,
              adaptive: self.adaptive.flatMap { try? AdaptiveClipping(initialClipNorm: self.initialClip, settings: $0) }, round: 0)
    }

    public func configureRound(_ context: RoundContext) -> RoundPlan { self.inner.configureRound(context) }

    public func configureRound(_ context: RoundContext, state: State) -> RoundPlan {
        self.inner.configureRound(context, state: state.inner)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> UniformSumAggregator {
        UniformSumAggregator(parameterCount: global.count, expectedSites: Set(plan.participants), clip: self.initialClip,
                             denominator: plan.participants.count)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters, state: State) -> UniformSumAggregator {
        UniformSumAggregator(parameterCount: global.count, expectedSites: Set(plan.participants), clip: state.clip,
                             denominator: plan.participants.count)
    }

    public func finishRound(global: ModelParameters, aggregator: UniformSumAggregator, state: inout State) -> ModelParameters {
        state.round += 1
        var source = self.noise.source(round: state.round)
        var noisy = aggregator.total
        let z = self.updateNoiseMultiplier
        GaussianMechanism(standardDeviation: z * state.clip).addNoise(to: &noisy, using: &source)
        noisy.scale(by: 1 / Float(aggregator.denominator))
        let next = self.inner.apply(meanDelta: noisy, to: global, state: &state.inner)
        if var a = state.adaptive {
            _ = a.update(unclippedCount: aggregator.unclipped, participants: aggregator.denominator, using: &source)
            state.clip = a.clipNorm
            state.adaptive = a
        }
        return next
    }
}

/// Distributed differential privacy: each site clips its own update to C and adds its share of the noise,
/// N(0, z²C²/m) with m the minimum number of answering sites, before the update leaves the site (and before
/// secure aggregation masks it). The coordinator only sums and divides by m; it never sees an un-noised sum when
/// secure aggregation is on. If more than m sites answer, the sum carries more noise than required, never less.
public struct DistributedDP<Inner: DeltaServerRule>: Strategy {
    public let inner: Inner
    public let noiseMultiplier: Double
    public let clip: Double
    /// Sites whose noise shares must add up to the full noise (the job's minimum number of sites).
    public let minimumSites: Int

    public init(_ inner: Inner, noiseMultiplier: Double, clip: Double, minimumSites: Int) {
        self.inner = inner
        self.noiseMultiplier = noiseMultiplier
        self.clip = clip
        self.minimumSites = max(1, minimumSites)
    }

    public var name: String { "distributed-dp(\(self.inner.name))" }

    public func initialState(for global: ModelParameters) -> Inner.ServerState { self.inner.initialState(for: global) }

    /// The standard deviation each site adds.
    public var siteNoiseStandardDeviation: Double { self.noiseMultiplier * self.clip / Double(self.minimumSites).squareRoot() }

    public func configureRound(_ context: RoundContext) -> RoundPlan {
        var plan = self.inner.configureRound(context)
        plan.instructions.updatePrivacy = UpdatePrivacy(clip: self.clip, noiseStandardDeviation: self.siteNoiseStandardDeviation)
        return plan
    }

    public func configureRound(_ context: RoundContext, state: Inner.ServerState) -> RoundPlan {
        var plan = self.inner.configureRound(context, state: state)
        plan.instructions.updatePrivacy = UpdatePrivacy(clip: self.clip, noiseStandardDeviation: self.siteNoiseStandardDeviation)
        return plan
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> UniformSumAggregator {
        // Sites clipped already; no clipping here (the coordinator may see only a masked sum).
        UniformSumAggregator(parameterCount: global.count, expectedSites: Set(plan.participants), clip: nil,
                             denominator: plan.participants.count)
    }

    public func finishRound(global: ModelParameters, aggregator: UniformSumAggregator, state: inout Inner.ServerState) -> ModelParameters {
        var mean = aggregator.total
        mean.scale(by: 1 / Float(aggregator.denominator))
        return self.inner.apply(meanDelta: mean, to: global, state: &state)
    }
}

/// What a site does to its update before it leaves, under distributed DP: clip to `clip`, add N(0, σ²).
public struct UpdatePrivacy: Sendable, Hashable, Codable {
    public var clip: Double
    public var noiseStandardDeviation: Double

    public init(clip: Double, noiseStandardDeviation: Double) {
        self.clip = clip
        self.noiseStandardDeviation = noiseStandardDeviation
    }
}
