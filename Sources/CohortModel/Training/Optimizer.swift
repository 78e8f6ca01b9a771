import CohortTensor

/// An optimiser and its hyper-parameters.
public enum OptimizerSpec: Sendable, Hashable, Codable {
    /// Stochastic gradient descent: `v = momentum * v + g + weightDecay * w; w -= lr * v` (PyTorch's convention;
    /// Nesterov uses `g + momentum * v` as the step).
    case sgd(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false)
    /// Adam (Kingma and Ba 2015) with bias correction; `decoupledWeightDecay` gives AdamW.
    case adam(
        learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false)

    /// The learning rate.
    public var learningRate: Float {
        switch self {
        case .sgd(let lr, _, _, _): lr
        case .adam(let lr, _, _, _, _, _): lr
        }
    }
}

/// An optimiser's state for one parameter vector.
public struct OptimizerState: Sendable {
    public let spec: OptimizerSpec
    var first: [Float]
    var second: [Float]
    /// Steps taken.
    public private(set) var step: Int

    public init(spec: OptimizerSpec, count: Int) {
        self.spec = spec
        switch spec {
        case .sgd(_, let momentum, _, _):
            self.first = momentum != 0 ? [Float](repeating: 0, count: count) : []
            self.second = []
        case .adam:
            self.first = [Float](repeating: 0, count: count)
            self.second = [Float](repeating: 0, count: count)
        }
        self.step = 0
    }

    /// Applies one update to `w` from gradient `g`.
    public mutating func apply(to w: inout [Float], gradient g: [Float]) {
        precondition(w.count == g.count, "gradient length \(g.count) differs from parameters \(w.count)")
        self.step += 1
        let n = w.count
        switch self.spec {
        case .sgd(let lr, let momentum, let wd, let nesterov):
            w.withUnsafeMutableBufferPointer { wp in
                g.withUnsafeBufferPointer { gp in
                    if momentum == 0 {
                        for i in 0..<n { wp[i] -= lr * (gp[i] + wd * wp[i]) }
                    } else {
                        self.first.withUnsafeMutableBufferPointer { v in
                            for i in 0..<n {
                                let gi = gp[i] + wd * wp[i]
                                v[i] = momentum * v[i] + gi
                                wp[i] -= lr * (nesterov ? gi + momentum * v[i] : v[i])
                            }
                        }
                    }
                }
            }
        case .adam(let lr, let b1, let b2, let eps, let wd, let decoupled):
            let t = Float(self.step)
            let c1 = 1 - Float(Math.pow(Double(b1), Double(t)))
            let c2 = 1 - Float(Math.pow(Double(b2), Double(t)))
            let stepSize = lr / c1
            let c2root = c2.squareRoot()
            w.withUnsafeMutableBufferPointer { wp in
                g.withUnsafeBufferPointer { gp in
                    self.first.withUnsafeMutableBufferPointer { m in
                        self.second.withUnsafeMutableBufferPointer { v in
                            for i in 0..<n {
                                var gi = gp[i]
                                if wd != 0 {
                                    if decoupled { wp[i] -= lr * wd * wp[i] } else { gi += wd * wp[i] }
                                }
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                wp[i] -= stepSize * m[i] / (v[i].squareRoot() / c2root + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}

