public import CohortTensor

/// Deterministic train/test splits.
public enum DataSplit {
    /// Splits row indices into train and test sets; each class contributes `round(testFraction * n_c)` rows to the
    /// test set (stratified), chosen by `rng`. Both index lists are in ascending order.
    public static func trainTest(labels: [Int32], testFraction: Double, rng: inout RandomSource, stratified: Bool = true)
        -> (train: [Int], test: [Int])
    {
        precondition((0..<1).contains(testFraction), "testFraction must be in [0, 1)")
        var test = [Int]()
        let groups: [[Int]]
        if stratified {
            let classes = Int(labels.max() ?? 0) + 1
            var g = [[Int]](repeating: [], count: classes)
            for (i, l) in labels.enumerated() { g[Int(l)].append(i) }
            groups = g
        } else {
            groups = [Array(labels.indices)]
        }
        for var g in groups where !g.isEmpty {
            rng.shuffle(&g)
            let k = Int((testFraction * Double(g.count)).rounded())
            test += g.prefix(min(k, max(0, g.count - 1)))
        }
        test.sort()
        let testSet = Set(test)
        let train = labels.indices.filter { !testSet.contains($0) }
        return (train, test)
    }
}

/// Ways to divide one pool of examples among simulated sites.
public enum Partitioner: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Uniformly at random, equal sizes.
    case iid
    /// Label skew: each class is divided among sites in proportions drawn from Dirichlet(alpha) (Hsu et al. 2019).
    /// Smaller alpha means more skew (0.1: most sites see mostly one class).
    case dirichlet(alpha: Double)
    /// Quantity skew: site sizes in proportions drawn from Dirichlet(alpha), labels IID.
    case quantity(alpha: Double)

    public var description: String {
        switch self {
        case .iid: "iid"
        case .dirichlet(let a): "dirichlet:\(a)"
        case .quantity(let a): "quantity:\(a)"
        }
    }

    /// Parses `iid`, `dirichlet:ALPHA` or `quantity:ALPHA`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "iid": self = .iid
        case "dirichlet": guard parts.count == 2, let a = Double(parts[1]), a > 0 else { return nil }; self = .dirichlet(alpha: a)
        case "quantity": guard parts.count == 2, let a = Double(parts[1]), a > 0 else { return nil }; self = .quantity(alpha: a)
        default: return nil
        }
    }

    /// Assigns row indices to `sites` sites. Every site receives at least `minimumSize` rows when that is possible
    /// (Dirichlet draws are repeated up to 100 times, as in common practice).
    public func assign(labels: [Int32], sites: Int, rng: inout RandomSource, minimumSize: Int = 2) -> [[Int]] {
        precondition(sites > 0, "need at least one site")
        let n = labels.count
        switch self {
        case .iid:
            let order = rng.permutation(n)
            var out = [[Int]](repeating: [], count: sites)
            for (k, i) in order.enumerated() { out[k % sites].append(i) }
            return out.map { $0.sorted() }
        case .quantity(let alpha):
            var best: [[Int]] = []
            for _ in 0..<100 {
                let p = rng.dirichlet([Double](repeating: alpha, count: sites))
                let order = rng.permutation(n)
                let cuts = Self.cuts(proportions: p, total: n)
                best = (0..<sites).map { Array(order[cuts[$0]..<cuts[$0 + 1]]).sorted() }
                if best.allSatisfy({ $0.count >= minimumSize }) || minimumSize * sites > n { break }
            }
            return best
        case .dirichlet(let alpha):
            let classes = Int(labels.max() ?? 0) + 1
            var byClass = [[Int]](repeating: [], count: classes)
            for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
            var best: [[Int]] = []
            for _ in 0..<100 {
                var out = [[Int]](repeating: [], count: sites)
                for c in 0..<classes {
                    var idx = byClass[c]
                    rng.shuffle(&idx)
                    let p = rng.dirichlet([Double](repeating: alpha, count: sites))
                    let cuts = Self.cuts(proportions: p, total: idx.count)
                    for s in 0..<sites { out[s] += idx[cuts[s]..<cuts[s + 1]] }
                }
                best = out.map { $0.sorted() }
                if best.allSatisfy({ $0.count >= minimumSize }) || minimumSize * sites > n { break }
            }
            return best
        }
    }

    static func cuts(proportions p: [Double], total: Int) -> [Int] {
        var cuts = [0]
        var acc = 0.0
        for x in p.dropLast() {
            acc += x
            cuts.append(min(total, Int((acc * Double(total)).rounded())))
        }
        cuts.append(total)
        for i in 1..<cuts.count { cuts[i] = max(cuts[i], cuts[i - 1]) }
        return cuts
    }
}
