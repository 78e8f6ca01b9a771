import CohortTensor
import Foundation

/// Equal-width bins over `[lower, upper]`, shared by every site so that counts add up exactly.
///
/// Cells are numbered `0...bins + 1`: cell 0 holds values below `lower`, cells `1...bins` the bins (the last one
/// includes `upper`), and cell `bins + 1` values above `upper`. Every site computes cell indices with the same
/// arithmetic, so a value lands in the same cell everywhere.
public struct BinGrid: Sendable, Hashable, Codable {
    public var lower: Double
    public var upper: Double
    public var bins: Int

    public init(lower: Double, upper: Double, bins: Int) {
        precondition(lower < upper && bins >= 1, "a bin grid needs lower < upper and at least one bin")
        self.lower = lower
        self.upper = upper
        self.bins = bins
    }

    /// Bins plus the underflow and overflow cells.
    public var cellCount: Int { self.bins + 2 }

    /// Width of one bin.
    public var width: Double { (self.upper - self.lower) / Double(self.bins) }

    /// The cell of a (non-missing) value.
    @inlinable
    public func cell(of x: Double) -> Int {
        if x < self.lower { return 0 }
        if x > self.upper { return self.bins + 1 }
        let i = Int((x - self.lower) * (Double(self.bins) / (self.upper - self.lower)))
        return min(i, self.bins - 1) + 1
    }

    /// The lower edge of a cell (`-infinity` for the underflow cell).
    public func lowerEdge(ofCell c: Int) -> Double {
        c <= 0 ? -.infinity : c > self.bins ? self.upper : self.lower + Double(c - 1) * (self.upper - self.lower) / Double(self.bins)
    }

    /// The upper edge of a cell (`+infinity` for the overflow cell).
    public func upperEdge(ofCell c: Int) -> Double {
        c > self.bins ? .infinity : c == self.bins ? self.upper : self.lowerEdge(ofCell: c + 1)
    }

    /// A readable label of a cell, e.g. `[20, 30)`, `< 18` or `> 100`.
    public func label(ofCell c: Int) -> String {
        if c == 0 { return "< \(Self.format(self.lower))" }
        if c == self.bins + 1 { return "> \(Self.format(self.upper))" }
        return "[\(Self.format(self.lowerEdge(ofCell: c))), \(Self.format(self.upperEdge(ofCell: c)))\(c == self.bins ? "]" : ")")"
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e12 { return String(Int(v)) }
        var s = String(v)
        if s.count > 10, let d = Double(String(format: "%.6g", v)) { s = String(d) }
        return s
    }

    /// A grid of `bins` bins with round edges that covers `[low, high]`.
    public static func covering(_ low: Double, _ high: Double, bins: Int) -> BinGrid {
        var lo = low, hi = high
        if !(hi > lo) {
            lo -= 1
            hi += 1
        }
        var step = Self.niceStep((hi - lo) / Double(bins))
        for _ in 0..<4 {
            let start = (lo / step).rounded(.down) * step
            if start + Double(bins) * step >= hi { return BinGrid(lower: start, upper: start + Double(bins) * step, bins: bins) }
            step = Self.niceStep(step * 1.01)
        }
        return BinGrid(lower: lo, upper: hi, bins: bins)
    }

    /// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let p = pow10(Int((log10(raw)).rounded(.down)))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= raw * (1 - 1e-12) { return m * p }
        return 10 * p
    }

    static func pow10(_ e: Int) -> Double {
        var v = 1.0
        if e >= 0 { for _ in 0..<e { v *= 10 } } else { for _ in 0..<(-e) { v /= 10 } }
        return v
    }

    static func log10(_ x: Double) -> Double { Math.log(x) / Math.log(10) }
}
