public import CohortPrivacy
public import CohortStrategy

/// Something to do with a concrete strategy (the runtime's loops are generic over the strategy type).
public protocol StrategyVisitor: Sendable {
    associatedtype Result: Sendable
    func visit<S: Strategy>(_ strategy: S) async throws -> Result
}

/// Opens a ``StrategySpec`` (plus privacy settings) into a concrete ``Strategy`` once, at the start of a run.
public enum StrategyOpener {
    /// A strategy and privacy combination that cannot run, with the reason.
    public struct Unsupported: Error, CustomStringConvertible {
        public var message: String
        public var description: String { self.message }
    }

    /// Calls `visitor` with the strategy `spec` names, wrapped in central or distributed DP when asked.
    ///
    /// - Parameters:
    ///   - noiseSites: Under distributed DP, how many sites' noise shares must add up to the full noise (the
    ///     minimum number of sites that answer a round).
    ///   - noise: Where central DP draws its noise.
    public static func open<V: StrategyVisitor>(
        _ spec: StrategySpec, privacy: PrivacySettings?, noiseSites: Int, noise: ServerNoise, visitor: V
    ) async throws -> V.Result {
        try privacy?.validate()
        switch spec {
        case .fedAvg(let lr): return try await self.wrap(FedAvg(serverLearningRate: lr), privacy, noiseSites, noise, visitor)
        case .fedProx: return try await self.wrap(FedAvg(), privacy, noiseSites, noise, visitor)
        case .fedAvgM(let lr, let m): return try await self.wrap(FedAvgM(serverLearningRate: lr, momentum: m), privacy, noiseSites, noise, visitor)
        case .fedOpt(let method, let lr, let b1, let b2, let tau):
            return try await self.wrap(FedOpt(method: method, serverLearningRate: lr, beta1: b1, beta2: b2, tau: tau), privacy, noiseSites, noise, visitor)
        case .cyclic: return try await self.wrap(Cyclic(), privacy, noiseSites, noise, visitor)
        case .scaffold(let lr):
            if let privacy, privacy.configuration.isServerSide {
                throw Unsupported(message: "SCAFFOLD cannot be combined with central or distributed DP here (its control variates would need their own noise); use local DP-SGD or another strategy")
            }
            return try await visitor.visit(Scaffold(serverLearningRate: lr))
        }
    }

    static func wrap<Inner: DeltaServerRule, V: StrategyVisitor>(
        _ inner: Inner, _ privacy: PrivacySettings?, _ noiseSites: Int, _ noise: ServerNoise, _ visitor: V
    ) async throws -> V.Result {
        switch privacy?.configuration.mode {
        case .central(let z, let clip, let adaptive)?:
            return try await visitor.visit(CentralDP(inner, noiseMultiplier: z, clip: clip, adaptive: adaptive, noise: noise))
        case .distributed(let z, let clip)?:
            return try await visitor.visit(DistributedDP(inner, noiseMultiplier: z, clip: clip, minimumSites: noiseSites))
        case .local?, nil:
            return try await visitor.visit(inner)
        }
    }
}

extension DPConfiguration {
    /// Whether the coordinator side applies the mechanism (central and distributed DP), as opposed to local DP-SGD.
    public var isServerSide: Bool {
        if case .local = self.mode { return false }
        return true
    }
}
