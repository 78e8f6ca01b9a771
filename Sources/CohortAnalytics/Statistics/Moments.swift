/// Mergeable moments of one column: count, mean, sum of squared deviations (M2) and a compensated sum.
///
/// Site moments are computed in blocks: each block's mean and M2 by the corrected two-pass algorithm (Björck;
/// Chan, Golub and LeVeque 1983), blocks and sites combined by the pairwise update of Chan, Golub and LeVeque
/// (1979). The sum is carried as a Neumaier-compensated pair. Merging is exact up to rounding: the combined
/// mean and variance are those of the pooled values, not averages of averages.
///
/// Under differential privacy the count is noisy (not an integer) and the triple is derived from noisy sums;
/// merging stays the same, because the pairwise update preserves the total count, sum and sum of squares.
public struct Moments: Sendable, Hashable, Codable {
    public var count: Double
    public var mean: Double
    /// Sum of squared deviations from the mean.
    public var m2: Double
    /// Sum of the values; `sum + sumError` is the compensated total.
    public var sum: Double
    /// Neumaier compensation term of `sum`.
    public var sumError: Double

    public init(count: Double, mean: Double, m2: Double, sum: Double, sumError: Double = 0) {
        self.count = count
        self.mean = mean
        self.m2 = m2
        self.sum = sum
        self.sumError = sumError
    }

    /// No values.
    public static let empty = Moments(count: 0, mean: 0, m2: 0, sum: 0)

    /// The compensated sum of the values.
    public var total: Double { self.sum + self.sumError }

    /// Sample variance (n - 1 denominator), if there are at least two values.
    public var variance: Double? { self.count > 1 ? max(0, self.m2) / (self.count - 1) : nil }

    /// Sample standard deviation.
    public var standardDeviation: Double? { self.variance.map { $0.squareRoot() } }

    /// Adds another set of values (Chan, Golub and LeVeque's pairwise update; compensated sums).
    public mutating func merge(_ o: Moments) {
        guard o.count != 0 else { return }
        guard self.count != 0 else {
            self = o
            return
        }
        let n = self.count + o.count
        let d = o.mean - self.mean
        self.mean += d * (o.count / n)
        self.m2 += o.m2 + d * d * (self.count * o.count / n)
        self.count = n
        let (s, e) = Self.twoSum(self.sum, o.sum)
        self.sum = s
        self.sumError += o.sumError + e
    }

    /// Removes a subset of values that was merged in (the inverse pairwise update), e.g. one site's own values
    /// from the federation's, leaving the rest.
    public func removing(_ o: Moments) -> Moments {
        let n = self.count - o.count
        guard n > 0 else { return .empty }
        let mean = (self.mean * self.count - o.mean * o.count) / n
        let d = o.mean - mean
        let m2 = self.m2 - o.m2 - d * d * (o.count * n / self.count)
        return Moments(count: n, mean: mean, m2: max(0, m2), sum: self.total - o.total)
    }

    /// Moments of a block of values (none missing).
    @inlinable
    public static func of(_ x: UnsafeBufferPointer<Double>) -> Moments {
        guard !x.isEmpty else { return .empty }
        var s = 0.0, c = 0.0
        for v in x {
            let t = s + v
            if abs(s) >= abs(v) { c += (s - t) + v } else { c += (v - t) + s }
            s = t
        }
        let n = Double(x.count)
        let mean = (s + c) / n
        var ss = 0.0, sd = 0.0
        for v in x {
            let d = v - mean
            ss += d * d
            sd += d
        }
        return Moments(count: n, mean: mean, m2: max(0, ss - sd * sd / n), sum: s, sumError: c)
    }

    /// Moments of 0/1 values with `ones` ones among `count`.
    static func binary(ones: Int, count: Int) -> Moments {
        guard count > 0 else { return .empty }
        let n = Double(count), p = Double(ones) / n
        return Moments(count: n, mean: p, m2: Double(ones) * Double(count - ones) / n, sum: Double(ones))
    }

    @inlinable
    static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let bp = s - a
        return (s, (a - (s - bp)) + (b - bp))
    }
}
