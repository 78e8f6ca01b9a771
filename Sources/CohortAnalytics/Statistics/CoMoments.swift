/// Mergeable co-moments of several numeric columns over complete cases: count, mean vector and the matrix of
/// summed cross-deviations `C[i][j] = Σ (x_i - mean_i)(x_j - mean_j)`, stored as the packed upper triangle.
///
/// Merged with the multivariate pairwise update `C = C_a + C_b + δ δᵀ n_a n_b / n` (δ = mean_b - mean_a), so the
/// covariance of the union is exact up to rounding.
public struct CoMoments: Sendable, Hashable, Codable {
    public var count: Double
    public var means: [Double]
    /// Packed upper triangle, row by row: (0,0), (0,1), ..., (0,d-1), (1,1), ...
    public var comoments: [Double]

    public init(count: Double, means: [Double], comoments: [Double]) {
        self.count = count
        self.means = means
        self.comoments = comoments
    }

    /// No rows over `dimension` columns.
    public static func empty(dimension d: Int) -> CoMoments {
        CoMoments(count: 0, means: [Double](repeating: 0, count: d), comoments: [Double](repeating: 0, count: d * (d + 1) / 2))
    }

    public var dimension: Int { self.means.count }

    /// Position of (i, j), i <= j, in the packed triangle.
    @inlinable
    public static func packedIndex(_ i: Int, _ j: Int, dimension d: Int) -> Int {
        let (a, b) = i <= j ? (i, j) : (j, i)
        return a * d - a * (a - 1) / 2 + (b - a)
    }

    /// Sample covariance of columns i and j (n - 1 denominator).
    public func covariance(_ i: Int, _ j: Int) -> Double? {
        guard self.count > 1 else { return nil }
        return self.comoments[Self.packedIndex(i, j, dimension: self.dimension)] / (self.count - 1)
    }

    /// Pearson correlation of columns i and j (nil when either is constant).
    public func correlation(_ i: Int, _ j: Int) -> Double? {
        let d = self.dimension
        let cii = self.comoments[Self.packedIndex(i, i, dimension: d)]
        let cjj = self.comoments[Self.packedIndex(j, j, dimension: d)]
        guard self.count > 1, cii > 0, cjj > 0 else { return nil }
        return max(-1, min(1, self.comoments[Self.packedIndex(i, j, dimension: d)] / (cii * cjj).squareRoot()))
    }

    /// Adds another set of rows.
    public mutating func merge(_ o: CoMoments) {
        guard o.count != 0 else { return }
        guard self.count != 0 else {
            self = o
            return
        }
        let d = self.dimension
        let n = self.count + o.count
        let delta = (0..<d).map { o.means[$0] - self.means[$0] }
        let f = self.count * o.count / n
        var k = 0
        for i in 0..<d {
            for j in i..<d {
                self.comoments[k] += o.comoments[k] + delta[i] * delta[j] * f
                k += 1
            }
        }
        for i in 0..<d { self.means[i] += delta[i] * (o.count / n) }
        self.count = n
    }

    /// Co-moments of a block of `rows` complete rows stored row-major with `dimension` values each.
    static func of(_ x: UnsafeMutableBufferPointer<Double>, rows: Int, dimension d: Int) -> CoMoments {
        guard rows > 0 else { return .empty(dimension: d) }
        var means = [Double](repeating: 0, count: d)
        for r in 0..<rows {
            for i in 0..<d { means[i] += x[r * d + i] }
        }
        for i in 0..<d { means[i] /= Double(rows) }
        // Centre in place, then accumulate the packed upper triangle.
        var correction = [Double](repeating: 0, count: d)
        for r in 0..<rows {
            for i in 0..<d {
                x[r * d + i] -= means[i]
                correction[i] += x[r * d + i]
            }
        }
        var c = [Double](repeating: 0, count: d * (d + 1) / 2)
        c.withUnsafeMutableBufferPointer { cp in
            for r in 0..<rows {
                let row = x.baseAddress! + r * d
                var k = 0
                for i in 0..<d {
                    let xi = row[i]
                    for j in i..<d {
                        cp[k] += xi * row[j]
                        k += 1
                    }
                }
            }
        }
        // Corrected two-pass: remove the (tiny) rounding residue of the centring.
        let n = Double(rows)
        var k = 0
        for i in 0..<d {
            for j in i..<d {
                c[k] -= correction[i] * correction[j] / n
                k += 1
            }
        }
        for i in 0..<d { means[i] += correction[i] / n }
        return CoMoments(count: n, means: means, comoments: c)
    }
}
