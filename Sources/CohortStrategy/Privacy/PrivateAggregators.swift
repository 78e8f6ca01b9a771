public import CohortModel
public import CohortPrivacy
public import CohortTensor

/// Sums site updates with equal weight, optionally clipping each to an L2 bound first (central DP clips at the
/// coordinator; with distributed DP the sites clipped and noised already). Exact, order-independent sums.
public struct UniformSumAggregator: UpdateAggregator {
    public private(set) var sum: ExactAccumulator
    public let expectedSites: Set<String>
    /// Clip bound applied to each update (nil: none).
    public let clip: Double?
    /// The fixed denominator of the mean: the number of sites selected for the round (not the number that
    /// answered), so one site's presence changes the mean by at most clip / denominator.
    public let denominator: Int
    public private(set) var acceptedSites: [String] = []
    public private(set) var siteTraining: [String: SiteTrainingRecord] = [:]
    /// Updates whose norm was within the clip bound (adaptive clipping's signal).
    public private(set) var unclipped = 0

    public init(parameterCount: Int, expectedSites: Set<String>, clip: Double?, denominator: Int) {
        self.sum = ExactAccumulator(count: parameterCount)
        self.expectedSites = expectedSites
        self.clip = clip
        self.denominator = max(1, denominator)
    }

    public mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
        try UpdateChecks.check(update, expected: self.expectedSites, accepted: self.acceptedSites, length: self.sum.count)
        var delta = update.delta
        if let clip = self.clip {
            let r = L2Clipping.clip(&delta, to: Float(clip))
            if r.originalNorm <= clip { self.unclipped += 1 }
        }
        do throws(AccumulatorError) { try self.sum.add(delta, weight: 1) } catch {
            throw SiteFailure(site: update.site, code: .rejected, message: error.description)
        }
        self.acceptedSites.append(update.site)
        self.siteTraining[update.site] = SiteTrainingRecord(update)
    }

    /// The exact sum of the (clipped) updates.
    public var total: [Float] { self.sum.sums().map { Float($0) } }
}

/// Where a server-side privacy mechanism draws its noise.
public enum ServerNoise: Sendable, Hashable, Codable {
    /// The operating system's CSPRNG (deployments).
    case secure
    /// Derived from this seed and the round (reproducible simulations; protects nothing).
    case seeded(UInt64)

    func source(round: Int) -> any NoiseSource {
        switch self {
        case .secure: SecureNoiseSource()
        case .seeded(let seed): SeededNoiseSource(RandomSource(seed: seed).derived("central-dp-noise", String(round)))
        }
    }
}
