public import CohortModel
public import CohortRuntime
public import CohortTensor

/// Small in-memory federations with a known logistic ground truth, for fast tests of the runtime.
public enum ToyFederation {
    /// Sites drawn from one logistic model `P(y=1|x) = sigmoid(w·x + b)` with site-specific covariate shifts.
    ///
    /// - Parameters:
    ///   - sizes: Training examples per site (test sets are half as large).
    public static func sites(sizes: [Int], features: Int = 4, seed: UInt64 = 1) -> [(name: String, train: ExampleSet, test: ExampleSet)] {
        var truth = RandomSource(seed: seed).derived("truth")
        let w = (0..<features).map { _ in truth.gaussian() }
        return sizes.enumerated().map { k, n in
            var rng = RandomSource(seed: seed).derived("site", String(k))
            let shift = (0..<features).map { _ in rng.gaussian() * 0.5 }
            func draw(_ count: Int) -> ExampleSet {
                var x = [Float](), y = [Int32]()
                for _ in 0..<count {
                    var z = -0.3
                    for j in 0..<features {
                        let v = rng.gaussian() + shift[j]
                        x.append(Float(v))
                        z += w[j] * v
                    }
                    y.append(rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0)
                }
                return ExampleSet(features: x, featureCount: features, labels: y, classCount: 2)
            }
            return ("site-\(k + 1)", draw(n), draw(max(2, n / 2)))
        }
    }

    /// Executors for a toy federation.
    public static func executors(_ sites: [(name: String, train: ExampleSet, test: ExampleSet)], network: DenseNetwork) -> [SiteExecutor] {
        sites.map { SiteExecutor(name: $0.name, network: network, train: $0.train, test: $0.test) }
    }
}
