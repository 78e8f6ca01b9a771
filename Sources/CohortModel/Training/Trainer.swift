public import CohortTensor

/// How long local training runs.
public enum TrainingBudget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Full passes over the data.
    case epochs(Int)
    /// Mini-batch steps (batches are drawn from reshuffled passes over the data).
    case steps(Int)

    public var description: String {
        switch self {
        case .epochs(let e): "\(e) epoch\(e == 1 ? "" : "s")"
        case .steps(let s): "\(s) step\(s == 1 ? "" : "s")"
        }
    }

    /// This budget repeated `times` (e.g. the local-only baseline trains as long as all federated rounds together).
    public func repeated(_ times: Int) -> TrainingBudget {
        switch self {
        case .epochs(let e): .epochs(e * times)
        case .steps(let s): .steps(s * times)
        }
    }
}

/// Example-level differential privacy for local training (DP-SGD): Poisson-sampled batches, each example's
/// gradient clipped to `clip`, Gaussian noise of standard deviation `noiseMultiplier * clip` added to their sum.
public struct ExampleLevelPrivacy: Sendable, Hashable, Codable {
    public var noiseMultiplier: Double
    public var clip: Float

    public init(noiseMultiplier: Double, clip: Float) {
        self.noiseMultiplier = noiseMultiplier
        self.clip = clip
    }
}

/// Hyper-parameters of local mini-batch training.
public struct TrainingConfig: Sendable, Hashable, Codable {
    public var budget: TrainingBudget
    public var batchSize: Int
    public var optimizer: OptimizerSpec
    public var loss: LossConfig
    /// FedProx proximal coefficient: adds `mu/2 * ||w - w_anchor||^2` to the loss (0: off).
    public var proximalMu: Float
    /// DP-SGD inside local training (nil: off).
    public var examplePrivacy: ExampleLevelPrivacy?

    public init(
        budget: TrainingBudget = .epochs(1), batchSize: Int = 32,
        optimizer: OptimizerSpec = .sgd(learningRate: 0.05), loss: LossConfig = LossConfig(), proximalMu: Float = 0,
        examplePrivacy: ExampleLevelPrivacy? = nil
    ) {
        self.budget = budget
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.loss = loss
        self.proximalMu = proximalMu
        self.examplePrivacy = examplePrivacy
    }

    /// Optimiser steps this budget takes on `count` examples.
    public func steps(examples count: Int) -> Int {
        let b = max(1, min(self.batchSize, max(count, 1)))
        switch self.budget {
        case .epochs(let e): return e * ((count + b - 1) / b)
        case .steps(let s): return s
        }
    }
}

/// What one call of ``Trainer/train(_:parameters:on:config:rng:anchor:correction:)`` did.
public struct TrainingSummary: Sendable, Hashable, Codable {
    /// Optimiser steps taken.
    public var steps: Int
    /// Examples processed (counting repeats).
    public var examplesSeen: Int
    /// Mean mini-batch loss over all steps.
    public var meanLoss: Double

    public init(steps: Int, examplesSeen: Int, meanLoss: Double) {
        self.steps = steps
        self.examplesSeen = examplesSeen
        self.meanLoss = meanLoss
    }
}

/// Mini-batch training of a ``DenseNetwork``.
public enum Trainer {
    /// Trains `parameters` in place.
    ///
    /// Batches come from a permutation of the examples drawn from `rng` at the start of every pass; the last batch of
    /// a pass may be smaller. Results depend only on the inputs and `rng`, not on threads.
    ///
    /// - Parameters:
    ///   - anchor: The reference point of the FedProx proximal term (used when `config.proximalMu > 0`).
    ///   - correction: Added to every gradient before the optimiser step (SCAFFOLD's `c - c_i`), if given.
    /// - Returns: a summary; zero steps if the data is empty.
    @discardableResult
    public static func train(
        _ network: DenseNetwork, parameters: inout ModelParameters, on data: ExampleSet,
        config: TrainingConfig, rng: inout RandomSource,
        anchor: ModelParameters? = nil, correction: [Float]? = nil
    ) -> TrainingSummary {
        var noise = SecureGaussianSource()
        return Self.train(network, parameters: &parameters, on: data, config: config, rng: &rng, noise: &noise,
                          anchor: anchor, correction: correction)
    }

    /// Trains `parameters` in place, drawing DP-SGD noise (when `config.examplePrivacy` is set) from `noise`.
    @discardableResult
    public static func train(
        _ network: DenseNetwork, parameters: inout ModelParameters, on data: ExampleSet,
        config: TrainingConfig, rng: inout RandomSource, noise: inout some GaussianSource,
        anchor: ModelParameters? = nil, correction: [Float]? = nil
    ) -> TrainingSummary {
        if let dp = config.examplePrivacy {
            return Self.trainPrivately(network, parameters: &parameters, on: data, config: config, privacy: dp,
                                       rng: &rng, noise: &noise, anchor: anchor, correction: correction)
        }
        precondition(parameters.layout == network.layout, "parameters do not match the network")
        precondition(data.featureCount == network.spec.inputCount,
                     "data has \(data.featureCount) features, the model expects \(network.spec.inputCount)")
        let n = data.count
        guard n > 0 else { return TrainingSummary(steps: 0, examplesSeen: 0, meanLoss: 0) }
        let batchSize = max(1, min(config.batchSize, n))
        let totalSteps: Int
        switch config.budget {
        case .epochs(let e): totalSteps = e * ((n + batchSize - 1) / batchSize)
        case .steps(let s): totalSteps = s
        }
        var optimizer = OptimizerState(spec: config.optimizer, count: parameters.count)
        var grad = [Float](repeating: 0, count: parameters.count)
        let ws = DenseNetwork.Workspace(network: network, batchCapacity: batchSize)
        let d = data.featureCount
        var batchX = [Float](repeating: 0, count: batchSize * d)
        var batchY = [Int32](repeating: 0, count: batchSize)
        var order = [Int]()
        var cursor = n
        var lossSum = 0.0
        var seen = 0
        let threads = batchSize * parameters.count >= 1 << 20 ? ProcessorCount.active : 1
        for _ in 0..<totalSteps {
            if cursor >= n {
                order = rng.permutation(n)
                cursor = 0
            }
            let b = min(batchSize, n - cursor)
            data.features.withUnsafeBufferPointer { fx in
                batchX.withUnsafeMutableBufferPointer { bx in
                    for r in 0..<b {
                        let src = order[cursor + r]
                        (bx.baseAddress! + r * d).update(from: fx.baseAddress! + src * d, count: d)
                        batchY[r] = data.labels[src]
                    }
                }
            }
            cursor += b
            seen += b
            let loss = parameters.flat.withUnsafeBufferPointer { p in
                batchX.withUnsafeBufferPointer { bx in
                    batchY.withUnsafeBufferPointer { by in
                        grad.withUnsafeMutableBufferPointer { g in
                            network.lossAndGradient(
                                parameters: p, features: bx.baseAddress!, labels: by.baseAddress!, batch: b,
                                loss: config.loss, gradient: g, workspace: ws, threads: threads)
                        }
                    }
                }
            }
            lossSum += loss
            if config.proximalMu > 0, let anchor {
                // ∇ mu/2 ||w - w0||² = mu (w - w0)
                grad.addScaled(parameters.flat, by: config.proximalMu)
                grad.addScaled(anchor.flat, by: -config.proximalMu)
            }
            if let correction { grad.addScaled(correction, by: 1) }
            optimizer.apply(to: &parameters.flat, gradient: grad)
        }
        return TrainingSummary(steps: totalSteps, examplesSeen: seen, meanLoss: totalSteps > 0 ? lossSum / Double(totalSteps) : 0)
    }
}

extension Trainer {
    /// DP-SGD: each step samples a Poisson batch (every example independently with probability q = batch / n), sums
    /// the examples' gradients clipped to C, adds N(0, (zC)²) noise, and divides by the expected batch size qn.
    static func trainPrivately(
        _ network: DenseNetwork, parameters: inout ModelParameters, on data: ExampleSet, config: TrainingConfig,
        privacy: ExampleLevelPrivacy, rng: inout RandomSource, noise: inout some GaussianSource,
        anchor: ModelParameters?, correction: [Float]?
    ) -> TrainingSummary {
        let n = data.count
        guard n > 0 else { return TrainingSummary(steps: 0, examplesSeen: 0, meanLoss: 0) }
        let expected = max(1, min(config.batchSize, n))
        let q = Double(expected) / Double(n)
        let totalSteps = config.steps(examples: n)
        let capacity = min(n, 2 * expected + 16)
        let ws = DenseNetwork.Workspace(network: network, batchCapacity: capacity)
        let d = data.featureCount
        var optimizer = OptimizerState(spec: config.optimizer, count: parameters.count)
        var grad = [Float](repeating: 0, count: parameters.count)
        var part = [Float](repeating: 0, count: parameters.count)
        var batchX = [Float](repeating: 0, count: capacity * d)
        var batchY = [Int32](repeating: 0, count: capacity)
        var lossSum = 0.0
        var seen = 0
        let std = privacy.noiseMultiplier * Double(privacy.clip)
        for _ in 0..<totalSteps {
            for i in grad.indices { grad[i] = 0 }
            var filled = 0
            var stepLoss = 0.0
            func flush() {
                guard filled > 0 else { return }
                let r = parameters.flat.withUnsafeBufferPointer { p in
                    batchX.withUnsafeBufferPointer { bx in
                        batchY.withUnsafeBufferPointer { by in
                            part.withUnsafeMutableBufferPointer { g in
                                network.clippedGradientSum(
                                    parameters: p, features: bx.baseAddress!, labels: by.baseAddress!, batch: filled,
                                    loss: config.loss, clip: privacy.clip, gradient: g, workspace: ws)
                            }
                        }
                    }
                }
                stepLoss += r.lossSum
                grad.addScaled(part, by: 1)
                seen += filled
                filled = 0
            }
            for i in 0..<n where rng.uniform() < q {
                data.features.withUnsafeBufferPointer { fx in
                    batchX.withUnsafeMutableBufferPointer { bx in
                        (bx.baseAddress! + filled * d).update(from: fx.baseAddress! + i * d, count: d)
                    }
                }
                batchY[filled] = data.labels[i]
                filled += 1
                if filled == capacity { flush() }
            }
            flush()
            grad.addGaussianNoise(standardDeviation: std, from: &noise)
            grad.scale(by: Float(1 / Double(expected)))
            lossSum += stepLoss / Double(expected)
            _ = parameters.flat.withUnsafeBufferPointer { p in
                grad.withUnsafeMutableBufferPointer { g in network.addL2(p, loss: config.loss, gradient: g) }
            }
            if config.proximalMu > 0, let anchor {
                grad.addScaled(parameters.flat, by: config.proximalMu)
                grad.addScaled(anchor.flat, by: -config.proximalMu)
            }
            if let correction { grad.addScaled(correction, by: 1) }
            optimizer.apply(to: &parameters.flat, gradient: grad)
        }
        return TrainingSummary(steps: totalSteps, examplesSeen: seen, meanLoss: totalSteps > 0 ? lossSum / Double(totalSteps) : 0)
    }
}
