import CohortData
import CohortTensor
import Testing

@Suite("Splits and partitioners")
struct PartitionTests {
    static let labels: [Int32] = (0..<3000).map { Int32($0 % 3 == 0 ? 1 : ($0 % 7 == 0 ? 2 : 0)) }

    @Test("every partitioner assigns each row exactly once and is deterministic",
          arguments: [Partitioner.iid, .dirichlet(alpha: 0.1), .dirichlet(alpha: 10), .quantity(alpha: 0.5)])
    func coverage(p: Partitioner) {
        var r1 = RandomSource(seed: 1), r2 = RandomSource(seed: 1)
        let a = p.assign(labels: Self.labels, sites: 10, rng: &r1)
        let b = p.assign(labels: Self.labels, sites: 10, rng: &r2)
        #expect(a == b)
        #expect(a.flatMap { $0 }.sorted() == Array(0..<3000))
        #expect(a.allSatisfy { $0.count >= 2 })
    }

    @Test("small Dirichlet alpha concentrates labels; large alpha mixes them")
    func skew() {
        func meanDominance(_ alpha: Double) -> Double {
            var rng = RandomSource(seed: 2)
            let parts = Partitioner.dirichlet(alpha: alpha).assign(labels: Self.labels, sites: 10, rng: &rng)
            return parts.map { idx in
                var c = [0, 0, 0]
                for i in idx { c[Int(Self.labels[i])] += 1 }
                return Double(c.max()!) / Double(idx.count)
            }.reduce(0, +) / 10
        }
        #expect(meanDominance(0.1) > 0.85)
        #expect(meanDominance(100) < 0.7)
    }

    @Test("quantity skew varies sizes; IID keeps them equal")
    func sizes() {
        var rng = RandomSource(seed: 3)
        let iid = Partitioner.iid.assign(labels: Self.labels, sites: 7, rng: &rng).map(\.count)
        #expect(iid.max()! - iid.min()! <= 1)
        let q = Partitioner.quantity(alpha: 0.3).assign(labels: Self.labels, sites: 7, rng: &rng).map(\.count)
        #expect(Double(q.max()!) > 3 * Double(q.min()!))
    }

    @Test("stratified train/test split keeps class proportions and is deterministic")
    func split() {
        var r1 = RandomSource(seed: 4), r2 = RandomSource(seed: 4)
        let s = DataSplit.trainTest(labels: Self.labels, testFraction: 0.25, rng: &r1)
        #expect(s.train.count + s.test.count == 3000)
        #expect(Set(s.train).isDisjoint(with: s.test))
        let positivesInTest = s.test.filter { Self.labels[$0] == 1 }.count
        #expect(positivesInTest == 250)
        #expect(DataSplit.trainTest(labels: Self.labels, testFraction: 0.25, rng: &r2).test == s.test)
        #expect(Partitioner(parsing: "dirichlet:0.5") == .dirichlet(alpha: 0.5))
        #expect(Partitioner(parsing: "dirichlet:x") == nil)
    }
}
