import CohortModel
import CohortTensor
import Testing

/// Finite-difference checks of every model's hand-written backward pass, with every loss option.
@Suite("Gradients")
struct GradientCheckTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var spec: ModelSpec
        var loss: LossConfig
        var testDescription: String { "\(self.spec) weights=\(self.loss.classWeights != nil) l2=\(self.loss.l2)" }
    }

    static let cases: [Case] = [
        Case(spec: ModelSpec(kind: .logistic, inputCount: 5, classCount: 2), loss: LossConfig()),
        Case(spec: ModelSpec(kind: .logistic, inputCount: 5, classCount: 2), loss: LossConfig(classWeights: [0.4, 2.5], l2: 0.1)),
        Case(spec: ModelSpec(kind: .softmax, inputCount: 6, classCount: 4), loss: LossConfig()),
        Case(spec: ModelSpec(kind: .softmax, inputCount: 6, classCount: 3), loss: LossConfig(classWeights: [1, 3, 0.5], l2: 0.05)),
        Case(spec: ModelSpec(kind: .mlp, inputCount: 7, classCount: 2, hidden: [9, 5], activation: .relu), loss: LossConfig(l2: 0.01)),
        Case(spec: ModelSpec(kind: .mlp, inputCount: 7, classCount: 3, hidden: [8], activation: .tanh), loss: LossConfig(classWeights: [2, 1, 1])),
        Case(spec: ModelSpec(kind: .mlp, inputCount: 4, classCount: 2, hidden: [6, 6, 4], activation: .tanh), loss: LossConfig()),
    ]

    func lossAt(_ net: DenseNetwork, _ w: [Float], _ x: [Float], _ y: [Int32], _ loss: LossConfig) -> Double {
        var g = [Float](repeating: 0, count: w.count)
        let ws = DenseNetwork.Workspace(network: net, batchCapacity: y.count)
        return w.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    g.withUnsafeMutableBufferPointer { gp in
                        net.lossAndGradient(parameters: wp, features: xp.baseAddress!, labels: yp.baseAddress!,
                                            batch: y.count, loss: loss, gradient: gp, workspace: ws)
                    }
                }
            }
        }
    }

    @Test("analytic gradient matches central finite differences", arguments: cases)
    func gradientMatchesFiniteDifferences(c: Case) throws {
        let net = try DenseNetwork(c.spec)
        var rng = RandomSource(seed: 21)
        var params = net.initialParameters(rng: &rng)
        // Move linear models away from zero so that every term is exercised.
        for i in params.flat.indices { params.flat[i] += Float(rng.gaussian() * 0.3) }
        let batch = 6
        let x = (0..<(batch * c.spec.inputCount)).map { _ in Float(rng.gaussian()) }
        let y = (0..<batch).map { _ in Int32(rng.uniformInt(below: c.spec.classCount)) }
        var grad = [Float](repeating: 0, count: params.count)
        let ws = DenseNetwork.Workspace(network: net, batchCapacity: batch)
        _ = params.flat.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    grad.withUnsafeMutableBufferPointer { gp in
                        net.lossAndGradient(parameters: wp, features: xp.baseAddress!, labels: yp.baseAddress!,
                                            batch: batch, loss: c.loss, gradient: gp, workspace: ws)
                    }
                }
            }
        }
        // Every coordinate, with a step small enough for curvature and large enough for Float32 rounding.
        let eps: Float = 2e-3
        var worst = 0.0
        for i in params.flat.indices {
            var plus = params.flat, minus = params.flat
            plus[i] += eps
            minus[i] -= eps
            let numeric = (lossAt(net, plus, x, y, c.loss) - lossAt(net, minus, x, y, c.loss)) / (2 * Double(eps))
            let err = abs(numeric - Double(grad[i])) / max(1e-2, abs(numeric) + abs(Double(grad[i])))
            worst = max(worst, err)
        }
        #expect(worst < 2e-2, "worst relative error \(worst)")
        // And a random direction, which averages out rounding noise: tighter tolerance.
        let v = (0..<params.count).map { _ in Float(rng.gaussian()) }
        var plus = params.flat, minus = params.flat
        plus.addScaled(v, by: eps)
        minus.addScaled(v, by: -eps)
        let directional = (lossAt(net, plus, x, y, c.loss) - lossAt(net, minus, x, y, c.loss)) / (2 * Double(eps))
        let analytic = zip(grad, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(directional - analytic) <= 5e-3 * max(1, abs(analytic)), "directional \(directional) vs \(analytic)")
    }

    @Test("the loss is the stable closed form: BCE from logits and softmax cross-entropy")
    func lossValues() throws {
        // Logistic regression with weights w=(1,-2), bias 0.5 on x=(0.3, 0.1): logit 0.6.
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 2, classCount: 2))
        let w: [Float] = [1, -2, 0.5]
        let z = 0.3 - 0.2 + 0.5
        let l1 = lossAt(net, w, [0.3, 0.1], [1], LossConfig())
        #expect(abs(l1 - log(1 + exp(-z))) < 1e-6)
        let l0 = lossAt(net, w, [0.3, 0.1], [0], LossConfig())
        #expect(abs(l0 - log(1 + exp(z))) < 1e-6)
        // Extreme logits stay finite.
        let big = lossAt(net, [100, 0, 0], [10, 0], [0], LossConfig())
        #expect(abs(big - 1000) < 1e-3)
    }
}

import Foundation
