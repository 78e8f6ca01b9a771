import CohortModel
import CohortTensor
import Testing

@Suite("DP-SGD")
struct PrivateTrainingTests {
    static func setup(_ spec: ModelSpec, batch: Int, seed: UInt64) throws -> (DenseNetwork, ModelParameters, [Float], [Int32]) {
        let net = try DenseNetwork(spec)
        var rng = RandomSource(seed: seed)
        var p = net.initialParameters(rng: &rng)
        for i in p.flat.indices { p.flat[i] += Float(rng.gaussian() * 0.2) }
        let x = (0..<(batch * spec.inputCount)).map { _ in Float(rng.gaussian() * 2) }
        let y = (0..<batch).map { _ in Int32(rng.uniformInt(below: spec.classCount)) }
        return (net, p, x, y)
    }

    static func gradient(_ net: DenseNetwork, _ p: ModelParameters, _ x: [Float], _ y: [Int32], batch: Int, clip: Float?) -> [Float] {
        var g = [Float](repeating: 0, count: p.count)
        let ws = DenseNetwork.Workspace(network: net, batchCapacity: batch)
        p.flat.withUnsafeBufferPointer { pp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    g.withUnsafeMutableBufferPointer { gp in
                        if let clip {
                            _ = net.clippedGradientSum(parameters: pp, features: xp.baseAddress!, labels: yp.baseAddress!, batch: batch,
                                                       loss: LossConfig(), clip: clip, gradient: gp, workspace: ws)
                        } else {
                            _ = net.lossAndGradient(parameters: pp, features: xp.baseAddress!, labels: yp.baseAddress!, batch: batch,
                                                    loss: LossConfig(), gradient: gp, workspace: ws)
                        }
                    }
                }
            }
        }
        return g
    }

    static let specs = [
        ModelSpec(kind: .logistic, inputCount: 6, classCount: 2),
        ModelSpec(kind: .softmax, inputCount: 5, classCount: 4),
        ModelSpec(kind: .mlp, inputCount: 7, classCount: 3, hidden: [9, 5], activation: .relu),
        ModelSpec(kind: .mlp, inputCount: 4, classCount: 2, hidden: [6], activation: .tanh),
    ]

    @Test("the clipped sum equals clipping every example's own gradient and adding them up", arguments: specs)
    func matchesPerExampleClipping(spec: ModelSpec) throws {
        let batch = 9
        let (net, p, x, y) = try Self.setup(spec, batch: batch, seed: 3)
        for clip: Float in [0.05, 0.5, 1e9] {
            var expected = [Float](repeating: 0, count: p.count)
            var norms = [Double]()
            for r in 0..<batch {
                var g = Self.gradient(net, p, Array(x[(r * spec.inputCount)..<((r + 1) * spec.inputCount)]), [y[r]], batch: 1, clip: nil)
                let norm = g.l2Norm
                norms.append(norm)
                if norm > Double(clip) { g.scale(by: Float(Double(clip) / norm)) }
                expected.addScaled(g, by: 1)
            }
            let got = Self.gradient(net, p, x, y, batch: batch, clip: clip)
            let worst = zip(got, expected).map { Double(abs($0 - $1)) }.max()!
            #expect(worst <= 1e-5 * max(1, expected.l2Norm), "clip \(clip): error \(worst)")
            // With no effective clipping the sum is batch x the mean gradient.
            if clip > 1e8 {
                var mean = Self.gradient(net, p, x, y, batch: batch, clip: nil)
                mean.scale(by: Float(batch))
                #expect(zip(got, mean).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            }
            #expect(norms.contains { $0 > 0.05 })
        }
    }

    @Test("noise has standard deviation z*C / expected batch size, and a seeded run is reproducible")
    func noiseScale() throws {
        // A wide logistic model whose clipped gradients are negligible (clip 1e-7): one SGD step with learning rate 1
        // moves every weight by the noise alone.
        let d = 4000
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: d, classCount: 2))
        var rng = RandomSource(seed: 1)
        let data = ExampleSet(features: (0..<(200 * d)).map { _ in Float(rng.gaussian()) }, featureCount: d,
                              labels: (0..<200).map { Int32($0 % 2) }, classCount: 2)
        let z = 1.5, clip: Float = 1e-7
        let config = TrainingConfig(budget: .steps(1), batchSize: 20, optimizer: .sgd(learningRate: 1),
                                    examplePrivacy: ExampleLevelPrivacy(noiseMultiplier: z, clip: clip))
        func run(_ seed: UInt64) -> [Float] {
            var p = ModelParameters(zeros: net.layout)
            var r = RandomSource(seed: 2)
            var noise = RandomSource(seed: seed)
            Trainer.train(net, parameters: &p, on: data, config: config, rng: &r, noise: &noise)
            return p.flat
        }
        let moved = run(7)
        #expect(moved == run(7))
        #expect(moved != run(8))
        let expected = z * Double(clip) / 20
        let sd = (moved.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(moved.count)).squareRoot()
        #expect(abs(sd / expected - 1) < 0.05, "sd \(sd) vs \(expected)")
    }

    @Test("Poisson batches have the expected size on average and DP-SGD still learns")
    func learns() throws {
        var rng = RandomSource(seed: 4)
        var x = [Float](), y = [Int32]()
        for _ in 0..<2000 {
            let a = rng.gaussian(), b = rng.gaussian()
            x += [Float(a), Float(b)]
            y.append(a - b > 0 ? 1 : 0)
        }
        let data = ExampleSet(features: x, featureCount: 2, labels: y, classCount: 2)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 2, classCount: 2))
        var p = ModelParameters(zeros: net.layout)
        var r = RandomSource(seed: 5)
        var noise = RandomSource(seed: 6)
        let config = TrainingConfig(budget: .steps(300), batchSize: 50, optimizer: .sgd(learningRate: 0.5),
                                    examplePrivacy: ExampleLevelPrivacy(noiseMultiplier: 1.0, clip: 1.0))
        let s = Trainer.train(net, parameters: &p, on: data, config: config, rng: &r, noise: &noise)
        // 300 steps x q n = 300 x 50 examples on average; the binomial spread is about 0.6%.
        #expect(abs(Double(s.examplesSeen) / 15_000 - 1) < 0.03)
        let probs = net.predictProbabilities(p, features: x, count: 2000)
        #expect(ClassificationMetrics.compute(probabilities: probs, labels: y, classCount: 2).accuracy > 0.9)
    }
}
