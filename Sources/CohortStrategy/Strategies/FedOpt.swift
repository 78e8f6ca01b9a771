public import CohortModel
import CohortTensor

/// Adaptive server optimisers (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): the example-weighted
/// mean update Δ is treated as a pseudo-gradient step and fed to Adam, Yogi or Adagrad on the server:
///
/// ```
/// m = β1 m + (1 - β1) Δ
/// Adam:    v = β2 v + (1 - β2) Δ²
/// Yogi:    v = v - (1 - β2) Δ² sign(v - Δ²)
/// Adagrad: v = v + Δ²
/// x = x + η m̂ / (sqrt(v̂) + τ)
/// ```
///
/// with Adam's bias corrections m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t) for Adam and Yogi (none for Adagrad), so
/// that FedAdam with one site and τ -> 0 is Adam on that site's pseudo-gradient.
public struct FedOpt: DeltaServerRule {
    public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
        case adam, yogi, adagrad
    }

    /// Moments, persisted with checkpoints.
    public struct State: Sendable, Hashable, Codable {
        public var m: [Float]
        public var v: [Float]
        public var step: Int
    }

    public var method: Method
    public var serverLearningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var tau: Float

    public init(method: Method, serverLearningRate: Float = 0.1, beta1: Float = 0.9, beta2: Float = 0.99, tau: Float = 1e-9) {
        self.method = method
        self.serverLearningRate = serverLearningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.tau = tau
    }

    public var name: String { "fed\(self.method.rawValue)" }

    public func initialState(for global: ModelParameters) -> State {
        State(m: [Float](repeating: 0, count: global.count), v: [Float](repeating: 0, count: global.count), step: 0)
    }

    public func makeAggregator(for plan: RoundPlan, global: ModelParameters) -> WeightedDeltaAggregator {
        WeightedDeltaAggregator(parameterCount: global.count, expectedSites: Set(plan.participants))
    }

    public func finishRound(global: ModelParameters, aggregator: WeightedDeltaAggregator, state: inout State) -> ModelParameters {
        self.apply(meanDelta: aggregator.meanDelta, to: global, state: &state)
    }

    public func apply(meanDelta delta: [Float], to global: ModelParameters, state: inout State) -> ModelParameters {
        state.step += 1
        let t = Double(state.step)
        let b1 = self.beta1, b2 = self.beta2
        let correct1: Float = self.method == .adagrad ? 1 : Float(1 - Math.pow(Double(b1), t))
        let correct2: Float = self.method == .adagrad ? 1 : Float(1 - Math.pow(Double(b2), t))
        var next = global
        for i in 0..<delta.count {
            let d = delta[i]
            state.m[i] = b1 * state.m[i] + (1 - b1) * d
            let d2 = d * d
            switch self.method {
            case .adam: state.v[i] = b2 * state.v[i] + (1 - b2) * d2
            case .yogi:
                let s: Float = state.v[i] > d2 ? 1 : (state.v[i] < d2 ? -1 : 0)
                state.v[i] -= (1 - b2) * d2 * s
            case .adagrad: state.v[i] += d2
            }
            let mHat = state.m[i] / correct1
            let vHat = state.v[i] / correct2
            next.flat[i] += self.serverLearningRate * mHat / (vHat.squareRoot() + self.tau)
        }
        return next
    }
}
