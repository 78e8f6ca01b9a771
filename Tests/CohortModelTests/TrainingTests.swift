import CohortModel
import CohortTensor
import Testing

@Suite("Optimizers and trainer")
struct TrainingTests {
    @Test("SGD without momentum is w - lr * (g + wd * w)")
    func sgd() {
        var state = OptimizerState(spec: .sgd(learningRate: 0.1, weightDecay: 0.5), count: 2)
        var w: [Float] = [1, -2]
        state.apply(to: &w, gradient: [0.5, 0.25])
        let expected: [Float] = [1 - 0.1 * 1.0, -2 - 0.1 * -0.75]
        #expect(w == expected)
    }

    @Test("SGD momentum accumulates velocity as PyTorch does")
    func momentum() {
        var state = OptimizerState(spec: .sgd(learningRate: 1, momentum: 0.9), count: 1)
        var w: [Float] = [0]
        state.apply(to: &w, gradient: [1])  // v = 1
        state.apply(to: &w, gradient: [1])  // v = 1.9
        #expect(abs(w[0] - -2.9) < 1e-6)
    }

    @Test("Adam's bias-corrected steps match the closed form")
    func adam() {
        var state = OptimizerState(spec: .adam(learningRate: 0.01), count: 2)
        var w: [Float] = [1, 1]
        state.apply(to: &w, gradient: [3, -0.5])
        // First step: m̂ = g, v̂ = g², step = lr * g / (|g| + eps) ≈ lr * sign(g).
        #expect(abs(w[0] - 0.99) < 1e-6)
        #expect(abs(w[1] - 1.01) < 1e-6)
        state.apply(to: &w, gradient: [1, -0.5])
        // Second step by hand: m = (0.1*3*0.9 + 0.1*1) etc.
        let m1: Double = 0.9 * 0.3 + 0.1
        let v1: Double = 0.999 * 0.009 + 0.001
        let mHat: Double = m1 / (1 - 0.81)
        let vHat: Double = v1 / (1 - 0.998001)
        let step: Double = 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(abs(Double(w[0]) - (0.99 - step)) < 1e-6)
    }

    static func separable(_ n: Int, seed: UInt64) -> ExampleSet {
        var rng = RandomSource(seed: seed)
        var x = [Float](), y = [Int32]()
        for _ in 0..<n {
            let a = rng.gaussian(), b = rng.gaussian()
            x += [Float(a), Float(b)]
            y.append(a + 0.5 * b > 0 ? 1 : 0)
        }
        return ExampleSet(features: x, featureCount: 2, labels: y, classCount: 2)
    }

    @Test("an epoch budget takes ceil(n / batch) steps per epoch and sees every example once per epoch")
    func epochBudget() throws {
        let data = Self.separable(103, seed: 1)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 2, classCount: 2))
        var p = ModelParameters(zeros: net.layout)
        var rng = RandomSource(seed: 2)
        let s = Trainer.train(net, parameters: &p, on: data, config: TrainingConfig(budget: .epochs(3), batchSize: 10), rng: &rng)
        #expect(s.steps == 33)
        #expect(s.examplesSeen == 309)
        let steps = Trainer.train(net, parameters: &p, on: data, config: TrainingConfig(budget: .steps(25), batchSize: 10), rng: &rng)
        #expect(steps.steps == 25)
    }

    @Test("training learns a separable problem and is reproducible for a seed")
    func learns() throws {
        let data = Self.separable(400, seed: 3)
        for spec in [ModelSpec(kind: .logistic, inputCount: 2, classCount: 2),
                     ModelSpec(kind: .mlp, inputCount: 2, classCount: 2, hidden: [8])] {
            let net = try DenseNetwork(spec)
            var init0 = RandomSource(seed: 4)
            let start = net.initialParameters(rng: &init0)
            var a = start, b = start
            var r1 = RandomSource(seed: 5), r2 = RandomSource(seed: 5)
            let cfg = TrainingConfig(budget: .epochs(20), batchSize: 16, optimizer: .sgd(learningRate: 0.5))
            Trainer.train(net, parameters: &a, on: data, config: cfg, rng: &r1)
            Trainer.train(net, parameters: &b, on: data, config: cfg, rng: &r2)
            #expect(a == b)
            let probs = net.predictProbabilities(a, features: data.features, count: data.count)
            let m = ClassificationMetrics.compute(probabilities: probs, labels: data.labels, classCount: 2)
            #expect(m.accuracy > 0.95, "\(spec): accuracy \(m.accuracy)")
        }
    }

    @Test("the proximal term pulls training toward the anchor")
    func proximal() throws {
        let data = Self.separable(200, seed: 6)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 2, classCount: 2))
        let anchor = ModelParameters(zeros: net.layout)
        func distance(mu: Float) -> Double {
            var p = anchor
            var rng = RandomSource(seed: 7)
            Trainer.train(net, parameters: &p, on: data,
                          config: TrainingConfig(budget: .epochs(5), batchSize: 20, optimizer: .sgd(learningRate: 0.1), proximalMu: mu),
                          rng: &rng, anchor: anchor)
            return p.flat.l2Norm
        }
        #expect(distance(mu: 3) < 0.5 * distance(mu: 0))
    }
}
