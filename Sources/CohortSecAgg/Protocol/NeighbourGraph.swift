import CohortTensor

/// The public k-regular graph that decides which clients mask with, and secret-share to, each other (SecAgg+).
///
/// Construction (Bell et al., 2020, Section 3: a Harary graph with a random relabelling): place the participants on
/// a circle in the order of a random permutation, and connect each to the `k/2` nearest positions on either side;
/// when k is odd (then n is even), also connect each to the diametrically opposite position. The permutation is
/// `RandomSource(seed: graphSeed).derived("cohort-secagg/graph").permutation(n)` (xoshiro256**, documented to give
/// the same sequence on every platform), so every party recomputes the same graph from the public seed. `k = n − 1`
/// gives the complete graph, i.e. the original SecAgg.
public struct NeighbourGraph: Sendable, Hashable {
    /// Neighbour indices of each participant (by position in the participant list), sorted, without itself.
    public let neighbours: [[Int]]

    /// Builds the graph for `participantCount` nodes of degree `degree` from `seed`.
    public init(participantCount n: Int, degree k: Int, seed: UInt64) {
        precondition(n >= 2 && k >= 1 && k <= n - 1, "degree must be in 1...n-1")
        if k == n - 1 {
            self.neighbours = (0..<n).map { u in (0..<n).filter { $0 != u } }
            return
        }
        precondition(k % 2 == 0 || n % 2 == 0, "no k-regular graph exists when k and n are both odd")
        var shuffler = RandomSource(seed: seed).derived("cohort-secagg/graph")
        let nodeAt = shuffler.permutation(n)
        var positionOf = [Int](repeating: 0, count: n)
        for (p, u) in nodeAt.enumerated() { positionOf[u] = p }
        self.neighbours = (0..<n).map { u in
            let p = positionOf[u]
            var set = Set<Int>()
            if k >= 2 {
                for j in 1...(k / 2) {
                    set.insert(nodeAt[(p + j) % n])
                    set.insert(nodeAt[(p - j + n) % n])
                }
            }
            if k % 2 == 1 { set.insert(nodeAt[(p + n / 2) % n]) }
            return set.sorted()
        }
    }

    /// The graph of a configuration.
    public init(_ configuration: SecAggConfiguration) {
        self.init(
            participantCount: configuration.participants.count, degree: configuration.neighbourhoodSize,
            seed: configuration.graphSeed)
    }

    /// The participant and its neighbours, sorted: the holders of its shares.
    public func closedNeighbourhood(of u: Int) -> [Int] {
        (self.neighbours[u] + [u]).sorted()
    }

    /// Whether `u` and `v` are neighbours.
    public func areNeighbours(_ u: Int, _ v: Int) -> Bool {
        self.neighbours[u].contains(v)
    }
}
