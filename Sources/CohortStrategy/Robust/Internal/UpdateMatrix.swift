import CohortTensor
import Dispatch

/// A round's updates as the rows of an `n x d` matrix, in site-name order, with the kernels the robust rules share:
/// pairwise squared distances (through GEMM) and per-coordinate order statistics.
///
/// The rows are the updates' own arrays (no copy). Kernels work on blocks of ``blockColumns`` coordinates at a
/// time, so their extra memory is `n x blockColumns` values, never another `n x d` matrix.
struct UpdateMatrix {
    /// Site names, sorted.
    let sites: [String]
    /// One row per site, in ``sites`` order.
    let rows: [[Float]]
    /// Example counts, in ``sites`` order.
    let examples: [Int]
    /// Columns (`d`).
    let columns: Int

    /// Coordinates per block: a packed block of 100 rows is 1.6 MB.
    static let blockColumns = 4096

    /// The updates, sorted by site name.
    init(_ updates: [SiteUpdate]) {
        let sorted = updates.sorted { $0.site < $1.site }
        self.sites = sorted.map(\.site)
        self.rows = sorted.map(\.delta)
        self.examples = sorted.map(\.exampleCount)
        self.columns = sorted.first?.delta.count ?? 0
    }

    init(sites: [String], rows: [[Float]], examples: [Int], columns: Int) {
        self.sites = sites
        self.rows = rows
        self.examples = examples
        self.columns = columns
    }

    /// Number of rows (`n`).
    var count: Int { self.rows.count }

    /// The rows at the given indices (kept in ascending index order, hence in site-name order).
    func subset(_ indices: [Int]) -> UpdateMatrix {
        let keep = indices.sorted()
        return UpdateMatrix(sites: keep.map { self.sites[$0] }, rows: keep.map { self.rows[$0] },
                            examples: keep.map { self.examples[$0] }, columns: self.columns)
    }

    /// Pairwise squared Euclidean distances, `n x n` row-major, exactly symmetric with a zero diagonal.
    ///
    /// Computed from the Gram matrix `G = Y Yᵀ` (`‖a - b‖² = G_aa + G_bb - 2 G_ab`), which GEMM produces in `O(n² d)`
    /// multiply-adds at matrix-multiply speed, one block of coordinates at a time (block products are summed in
    /// Float64). `Y` is `X` minus a reference row, the row of median norm: distances do not change under
    /// translation, and centring on a typical update keeps the cancellation in `G_aa + G_bb - 2 G_ab` small when
    /// updates share a large common component, or when a few outliers are far away (a column mean would move
    /// towards them).
    func squaredDistances() -> [Double] {
        let n = self.count
        var gram = [Double](repeating: 0, count: n * n)
        guard n > 0 else { return gram }
        let norms = self.rows.map(\.l2Norm)
        let reference = self.rows[Array(0..<n).sorted { (norms[$0], $0) < (norms[$1], $1) }[(n - 1) / 2]]
        // Wide blocks (8 MB packed) keep the number of GEMM calls, each spread over all cores, small.
        let width = max(Self.blockColumns, (1 << 21) / n)
        var packed = [Float](repeating: 0, count: n * min(width, max(1, self.columns)))
        var block = [Float](repeating: 0, count: n * n)
        var start = 0
        while start < self.columns {
            let w = min(width, self.columns - start)
            packed.withUnsafeMutableBufferPointer { p in
                for i in 0..<n {
                    self.rows[i].withUnsafeBufferPointer { r in
                        reference.withUnsafeBufferPointer { c in
                            for j in 0..<w { p[i * w + j] = r[start + j] - c[start + j] }
                        }
                    }
                }
            }
            packed.withUnsafeBufferPointer { p in
                block.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(.none, .transpose, m: n, n: n, k: w, a: p.baseAddress!, lda: w,
                                  b: p.baseAddress!, ldb: w, c: c.baseAddress!, ldc: n)
                }
            }
            for k in 0..<(n * n) { gram[k] += Double(block[k]) }
            start += w
        }
        var distances = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let d = max(0, gram[i * n + i] + gram[j * n + j] - 2 * gram[i * n + j])
                distances[i * n + j] = d
                distances[j * n + i] = d
            }
        }
        return distances
    }

    /// Applies a rule to every coordinate's values, sorted ascending, and returns the `d` results.
    ///
    /// Blocks of coordinates are transposed into a scratch buffer so that each coordinate's `n` values are
    /// contiguous, sorted, and reduced. Large matrices spread blocks over all cores; every coordinate is reduced by
    /// one thread from the same sorted values, so the result does not depend on threading.
    func reduceCoordinates(_ rule: CoordinateRule) -> [Float] {
        let n = self.count, d = self.columns
        var out = [Float](repeating: 0, count: d)
        guard n > 0, d > 0 else { return out }
        let width = Self.blockColumns
        let blocks = (d + width - 1) / width
        let rows = self.rows
        out.withUnsafeMutableBufferPointer { o in
            let output = SharedOutput(base: o.baseAddress!)
            let work: @Sendable (Int) -> Void = { b in
                let start = b * width
                let w = min(width, d - start)
                var scratch = [Float](repeating: 0, count: n * w)
                scratch.withUnsafeMutableBufferPointer { s in
                    for i in 0..<n {
                        rows[i].withUnsafeBufferPointer { r in
                            for j in 0..<w { s[j * n + i] = r[start + j] }
                        }
                    }
                    for j in 0..<w {
                        var column = UnsafeMutableBufferPointer(rebasing: s[(j * n)..<((j + 1) * n)])
                        column.sort()
                        output.base[start + j] = rule.reduce(UnsafeBufferPointer(column))
                    }
                }
            }
            if n * d >= 1 << 20 && blocks > 1 {
                DispatchQueue.concurrentPerform(iterations: blocks, execute: work)
            } else {
                for b in 0..<blocks { work(b) }
            }
        }
        return out
    }

    /// The mean of the rows weighted by `weights` (all 1 when nil), exact (``ExactAccumulator``).
    ///
    /// A row whose weighted values fall outside the accumulator's range (about ±8e12) is left out and returned as
    /// excluded rather than failing the round.
    func mean(weights: [Double]? = nil) -> (mean: [Float], excluded: [SiteFailure]) {
        var acc = ExactAccumulator(count: self.columns)
        var excluded = [SiteFailure]()
        for k in 0..<self.count {
            do throws(AccumulatorError) { try acc.add(self.rows[k], weight: weights?[k] ?? 1) } catch {
                excluded.append(SiteFailure(site: self.sites[k], code: .excluded, message: error.description))
            }
        }
        return (acc.weightedMean(), excluded)
    }

    /// Output pointer shared by worker threads; `@unchecked Sendable` because each block writes disjoint elements.
    private struct SharedOutput: @unchecked Sendable {
        let base: UnsafeMutablePointer<Float>
    }
}

/// A per-coordinate reduction of sorted values.
enum CoordinateRule: Sendable {
    /// The median (mean of the two middle values for an even count).
    case median
    /// The mean after dropping `trim` values at each end.
    case trimmedMean(trim: Int)
    /// The mean of the `keep` values closest to the median (Bulyan).
    case meanAroundMedian(keep: Int)

    /// Reduces one coordinate's values, sorted ascending.
    func reduce(_ sorted: UnsafeBufferPointer<Float>) -> Float {
        let n = sorted.count
        switch self {
        case .median:
            return Float(Self.median(sorted))
        case .trimmedMean(let trim):
            let kept = UnsafeBufferPointer(rebasing: sorted[trim..<(n - trim)])
            return Float(Vector.sum(kept) / Double(kept.count))
        case .meanAroundMedian(let keep):
            let m = Self.median(sorted)
            // The `keep` values closest to the median are contiguous in sorted order: grow a window outward from
            // the median, taking the nearer neighbour each time (the smaller value on a tie).
            var right = 0
            while right < n && Double(sorted[right]) < m { right += 1 }
            var left = right - 1
            for _ in 0..<keep {
                if right < n && (left < 0 || Double(sorted[right]) - m < m - Double(sorted[left])) {
                    right += 1
                } else {
                    left -= 1
                }
            }
            let kept = UnsafeBufferPointer(rebasing: sorted[(left + 1)..<right])
            return Float(Vector.sum(kept) / Double(kept.count))
        }
    }

    static func median(_ sorted: UnsafeBufferPointer<Float>) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? Double(sorted[n / 2]) : (Double(sorted[n / 2 - 1]) + Double(sorted[n / 2])) / 2
    }
}
