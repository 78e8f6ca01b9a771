import Dispatch

/// Exact, order-independent weighted sums of Float32 vectors, for aggregation.
///
/// Floating-point addition is not associative: summing the same site updates in another order, or in two tiers
/// (regions, then the federation), changes the last bits of the result. This accumulator makes aggregation
/// reproducible by construction. Each contribution `w * x[i]` is rounded once, on its own, to a fixed-point
/// integer in units of `2^-fractionBits`, and integers are summed exactly. The sum therefore does not depend on the
/// order in which contributions arrive, on how they are split across threads, or on whether they were first summed
/// in partial accumulators and merged (``merge(_:)``), which is what hierarchical aggregation does.
///
/// Storage is one `Int64` per element while contributions stay within `±2^(51 - fractionBits)` (±2048 with the
/// default 40 fraction bits); larger contributions, and every 1,024 contributions, carry into a second `Int64`
/// array that is allocated on first use. The resolution is `2^-40` (about 1e-12) of the weighted value.
public struct ExactAccumulator: Sendable, Hashable {
    /// Fraction bits of the fixed-point representation.
    public let fractionBits: Int
    /// Low word of each element, in units of `2^-fractionBits`.
    @usableFromInline var low: [Int64]
    /// High word of each element, in units of `2^(32 - fractionBits)`; empty until needed.
    @usableFromInline var high: [Int64]
    /// Sum of weights, in units of `2^-fractionBits`.
    public private(set) var weightUnits: Int128
    /// Contributions since the low words were last carried into the high words.
    @usableFromInline var sinceCarry: Int
    /// Number of vectors added (merged accumulators count their own).
    public private(set) var contributions: Int

    /// Default fraction bits.
    public static let defaultFractionBits = 40
    @usableFromInline static let magic: Double = 0x1.8p52
    @usableFromInline static let fastLimit: Double = 0x1.0p51
    @usableFromInline static let carryInterval = 1024

    /// Creates an empty accumulator for vectors of `count` elements.
    public init(count: Int, fractionBits: Int = ExactAccumulator.defaultFractionBits) {
        precondition((8...52).contains(fractionBits), "fractionBits must be in 8...52")
        self.fractionBits = fractionBits
        self.low = [Int64](repeating: 0, count: count)
        self.high = []
        self.weightUnits = 0
        self.sinceCarry = 0
        self.contributions = 0
    }

    /// The vector length.
    public var count: Int { self.low.count }

    /// The sum of weights added so far.
    public var totalWeight: Double { Double(self.weightUnits) * Self.pow2(-self.fractionBits) }

    /// Adds `weight * x`.
    ///
    /// - Throws: ``AccumulatorError`` if the length differs, a value is not finite, or `|weight * x[i]|` exceeds the
    ///   representable range (about 3e10 with the default resolution). Nothing is added when it throws.
    public mutating func add(_ x: UnsafeBufferPointer<Float>, weight: Double) throws(AccumulatorError) {
        guard x.count == self.count else { throw .lengthMismatch(expected: self.count, actual: x.count) }
        guard weight.isFinite, weight >= 0 else { throw .invalidWeight(weight) }
        let scale = weight * Self.pow2(self.fractionBits)
        if self.sinceCarry >= Self.carryInterval { self.carry() }
        // Fast path: one fused pass that converts and adds, and undoes itself exactly if any value needs the wide
        // path or is not finite. Integer sums make the undo exact.
        let fast = self.low.withUnsafeMutableBufferPointer { Self.addFastParallel(x, scale: scale, low: $0) }
        if !fast {
            if let bad = Self.firstUnrepresentable(x, scale: scale) {
                throw .outOfRange(index: bad, value: x[bad], weight: weight)
            }
            if self.high.isEmpty { self.high = [Int64](repeating: 0, count: self.count) }
            self.low.withUnsafeMutableBufferPointer { lowp in
                self.high.withUnsafeMutableBufferPointer { highp in
                    Self.addWide(x, scale: scale, low: lowp, high: highp)
                }
            }
        }
        self.weightUnits += Int128((weight * Self.pow2(self.fractionBits)).rounded())
        self.sinceCarry += 1
        self.contributions += 1
    }

    /// Adds `weight * x`.
    public mutating func add(_ x: [Float], weight: Double) throws(AccumulatorError) {
        var failure: AccumulatorError?
        x.withUnsafeBufferPointer { p in
            do throws(AccumulatorError) { try self.add(p, weight: weight) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Adds an exact fixed-point sum computed elsewhere (e.g. by secure aggregation): `values[i] · 2^-fractionBits`
    /// for each element, as the sum of `contributions` vectors with total weight `weight`.
    ///
    /// - Throws: ``AccumulatorError`` if the length differs or `fractionBits` is finer than this accumulator's
    ///   resolution (the sum could not be represented exactly). Nothing is added when it throws.
    public mutating func addFixedPoint(_ values: [Int64], fractionBits: Int, weight: Double, contributions: Int) throws(AccumulatorError) {
        guard values.count == self.count else { throw .lengthMismatch(expected: self.count, actual: values.count) }
        guard fractionBits >= 0, fractionBits <= self.fractionBits else {
            throw .resolutionMismatch(expected: self.fractionBits, actual: fractionBits)
        }
        guard weight.isFinite, weight >= 0 else { throw .invalidWeight(weight) }
        self.carry()
        if self.high.isEmpty { self.high = [Int64](repeating: 0, count: self.count) }
        let shift = self.fractionBits - fractionBits
        for i in 0..<self.count {
            // v · 2^shift split into the 32-bit low word and the high word (arithmetic shift keeps the sign).
            let v = values[i]
            let lowBits = shift >= 32 ? 0 : (v << shift) & 0xFFFF_FFFF
            let highPart = shift >= 32 ? v << (shift - 32) : v >> (32 - shift)
            self.low[i] &+= lowBits
            self.high[i] &+= highPart
        }
        self.weightUnits += Int128((weight * Self.pow2(self.fractionBits)).rounded())
        self.contributions += contributions
        self.sinceCarry = 1
    }

    /// Adds another accumulator's sums (exactly; the result equals adding its contributions here directly).
    public mutating func merge(_ other: ExactAccumulator) throws(AccumulatorError) {
        guard other.count == self.count else { throw .lengthMismatch(expected: self.count, actual: other.count) }
        guard other.fractionBits == self.fractionBits else {
            throw .resolutionMismatch(expected: self.fractionBits, actual: other.fractionBits)
        }
        var o = other
        o.carry()
        self.carry()
        if !o.high.isEmpty && self.high.isEmpty { self.high = [Int64](repeating: 0, count: self.count) }
        for i in 0..<self.count {
            self.low[i] &+= o.low[i]
            if !o.high.isEmpty { self.high[i] &+= o.high[i] }
        }
        self.weightUnits += o.weightUnits
        self.contributions += o.contributions
        self.sinceCarry = 1
    }

    /// The exact fixed-point sum of element `i`, in units of `2^-fractionBits`.
    public func units(at i: Int) -> Int128 {
        let h = self.high.isEmpty ? 0 : Int128(self.high[i])
        return (h << 32) + Int128(self.low[i])
    }

    /// Element `i` as a Float64 (high and low words converted separately: deterministic, within one unit in the
    /// last place of the correctly rounded value; converting an `Int128` directly is a slow software routine).
    @inlinable
    func value(at i: Int) -> Double {
        let lo = Double(self.low[i])
        return self.high.isEmpty ? lo : Double(self.high[i]) * 0x1.0p32 + lo
    }

    /// The weighted sums `Σ w·x[i]`.
    public func sums() -> [Double] {
        let unit = Self.pow2(-self.fractionBits)
        return (0..<self.count).map { self.value(at: $0) * unit }
    }

    /// The weighted mean `Σ w·x[i] / Σ w`, rounded to Float32; zeros when no weight was added.
    public func weightedMean() -> [Float] {
        guard self.weightUnits != 0 else { return [Float](repeating: 0, count: self.count) }
        let inverse = 1 / Double(self.weightUnits)
        var out = [Float](repeating: 0, count: self.count)
        out.withUnsafeMutableBufferPointer { o in
            self.low.withUnsafeBufferPointer { l in
                if self.high.isEmpty {
                    for i in 0..<o.count { o[i] = Float(Double(l[i]) * inverse) }
                } else {
                    self.high.withUnsafeBufferPointer { h in
                        for i in 0..<o.count { o[i] = Float((Double(h[i]) * 0x1.0p32 + Double(l[i])) * inverse) }
                    }
                }
            }
        }
        return out
    }

    /// Serialised state: fraction bits, weight, count, then for each element its 128-bit sum, little-endian.
    ///
    /// Used to pass a partial aggregate up a hierarchy without losing exactness. ``compactSerialized()`` holds the
    /// same state in fewer bytes.
    public func serialized() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(40 + 16 * self.count)
        self.appendHeader(to: &out)
        for i in 0..<self.count {
            let u = self.units(at: i)
            Self.append(UInt64(truncatingIfNeeded: u), to: &out)
            Self.append(UInt64(truncatingIfNeeded: u >> 64), to: &out)
        }
        return out
    }

    /// The compact form: a tag byte (`0xC1`), the same 40-byte header, then each element's sum zigzag-encoded as a
    /// variable-length integer (7 bits per byte). A sum of a few thousand examples' updates takes 5-7 bytes instead
    /// of 16; the state, and so the aggregate, is the same to the bit.
    public func compactSerialized() -> [UInt8] {
        var out = [Self.compactTag]
        out.reserveCapacity(41 + 7 * self.count)
        self.appendHeader(to: &out)
        for i in 0..<self.count {
            let u = self.units(at: i)
            var z = UInt128(bitPattern: (u << 1) ^ (u >> 127))
            while z >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: z) | 0x80)
                z >>= 7
            }
            out.append(UInt8(z))
        }
        return out
    }

    static let compactTag: UInt8 = 0xC1

    private func appendHeader(to out: inout [UInt8]) {
        Self.append(UInt64(self.fractionBits), to: &out)
        Self.append(UInt64(self.contributions), to: &out)
        Self.append(UInt64(truncatingIfNeeded: self.weightUnits), to: &out)
        Self.append(UInt64(truncatingIfNeeded: self.weightUnits >> 64), to: &out)
        Self.append(UInt64(self.count), to: &out)
    }

    /// Restores an accumulator from ``serialized()`` or ``compactSerialized()``.
    public init(serialized bytes: [UInt8]) throws(AccumulatorError) {
        let compact = bytes.first == Self.compactTag
        let base = compact ? 1 : 0
        guard bytes.count >= base + 40 else { throw .malformed("accumulator header is \(bytes.count - base) bytes, need 40") }
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(bytes[base + i * 8 + b]) << (8 * UInt64(b)) }
            return v
        }
        let bits = Int(word(0))
        guard (8...52).contains(bits) else { throw .malformed("fraction bits \(word(0)) out of range") }
        let perElement = compact ? 1 : 16
        guard word(4) <= UInt64((bytes.count - base - 40) / perElement), word(1) <= UInt64(Int.max) else {
            throw .malformed("accumulator of \(word(4)) elements cannot fit in \(bytes.count) bytes")
        }
        let n = Int(word(4))
        if !compact {
            guard bytes.count == 40 + 16 * n else {
                throw .malformed("accumulator of \(n) elements needs \(40 + 16 * n) bytes, got \(bytes.count)")
            }
        }
        self.init(count: n, fractionBits: bits)
        self.contributions = Int(word(1))
        self.weightUnits = Int128(Int64(bitPattern: word(3))) << 64 | Int128(word(2))
        self.high = [Int64](repeating: 0, count: n)
        var offset = base + 40
        for i in 0..<n {
            let u: Int128
            if compact {
                var z: UInt128 = 0
                var shift: UInt128 = 0
                while true {
                    guard offset < bytes.count else { throw .malformed("the compact accumulator ends inside element \(i) of \(n)") }
                    let b = bytes[offset]
                    offset += 1
                    guard shift < 128 else { throw .malformed("element \(i) of the compact accumulator is longer than 128 bits") }
                    z |= UInt128(b & 0x7F) << shift
                    if b & 0x80 == 0 { break }
                    shift += 7
                }
                u = Int128(bitPattern: z >> 1) ^ -Int128(bitPattern: z & 1)
            } else {
                let lo = word(5 + 2 * i), hi = word(6 + 2 * i)
                u = Int128(Int64(bitPattern: hi)) << 64 | Int128(lo)
            }
            self.low[i] = Int64(truncatingIfNeeded: u & 0xFFFF_FFFF)
            self.high[i] = Int64(truncatingIfNeeded: u >> 32)
        }
        if compact, offset != bytes.count {
            throw .malformed("\(bytes.count - offset) bytes follow the last element of the compact accumulator")
        }
    }

    // MARK: - Kernels

    @usableFromInline
    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    /// Moves everything above the low 32 bits of each low word into the high word, so low words cannot overflow.
    @usableFromInline
    mutating func carry() {
        guard self.sinceCarry > 0 else { return }
        if self.high.isEmpty { self.high = [Int64](repeating: 0, count: self.count) }
        for i in 0..<self.count {
            let l = self.low[i]
            self.high[i] &+= l >> 32
            self.low[i] = l & 0xFFFF_FFFF
        }
        self.sinceCarry = 0
    }

    static func firstUnrepresentable(_ x: UnsafeBufferPointer<Float>, scale: Double) -> Int? {
        // |s| < 2^83 keeps the high word's rounding exact (see addWide).
        let limit = 0x1.0p83
        for i in 0..<x.count {
            let s = Double(x[i]) * scale
            if !(abs(s) < limit) { return i }
        }
        return nil
    }

    /// Elements per thread below which the fused pass stays on the calling thread.
    static let parallelGrain = 1 << 17

    /// Runs ``addFast(_:scale:low:)`` over disjoint ranges on all cores; if any range fails, every range is undone.
    static func addFastParallel(_ x: UnsafeBufferPointer<Float>, scale: Double, low: UnsafeMutableBufferPointer<Int64>) -> Bool {
        let n = x.count
        let threads = min(ProcessorCount.active, max(1, n / parallelGrain))
        if threads == 1 { return addFast(x, scale: scale, low: low, sign: 1) }
        let chunk = ((n + threads - 1) / threads + 7) / 8 * 8
        let shared = FusedRanges(x: x, low: low)
        let ok = UnsafeMutableBufferPointer<Bool>.allocate(capacity: threads)
        defer { ok.deallocate() }
        let okShared = FusedFlags(flags: ok)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let r = (t * chunk)..<min(n, (t + 1) * chunk)
            okShared.flags[t] = r.isEmpty || addFast(
                UnsafeBufferPointer(rebasing: shared.x[r]), scale: scale, low: UnsafeMutableBufferPointer(rebasing: shared.low[r]), sign: 1)
        }
        if ok.allSatisfy({ $0 }) { return true }
        // Undo the ranges that completed (failed ranges have already undone themselves).
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let r = (t * chunk)..<min(n, (t + 1) * chunk)
            if okShared.flags[t] && !r.isEmpty {
                _ = addFast(UnsafeBufferPointer(rebasing: shared.x[r]), scale: scale,
                            low: UnsafeMutableBufferPointer(rebasing: shared.low[r]), sign: -1)
            }
        }
        return false
    }

    /// Buffers shared by the threads of one fused pass; `@unchecked Sendable` because threads touch disjoint ranges.
    struct FusedRanges: @unchecked Sendable {
        let x: UnsafeBufferPointer<Float>
        let low: UnsafeMutableBufferPointer<Int64>
    }

    /// Per-thread results; `@unchecked Sendable` because each thread writes only its own flag.
    struct FusedFlags: @unchecked Sendable {
        let flags: UnsafeMutableBufferPointer<Bool>
    }

    /// Adds (sign 1) or subtracts (sign -1) `round(x * scale)` to `low` in one pass, for values with
    /// |x * scale| < 2^51 (rounded with the 1.5·2^52 trick). If a value is outside that range or not finite, the
    /// part already added is subtracted again and the call returns false, leaving `low` as it was.
    @inlinable
    static func addFast(_ x: UnsafeBufferPointer<Float>, scale: Double, low: UnsafeMutableBufferPointer<Int64>, sign: Int64) -> Bool {
        let n = x.count
        let sv = SIMD8<Double>(repeating: scale)
        let mv = SIMD8<Double>(repeating: magic)
        let limit = SIMD8<Double>(repeating: fastLimit)
        let mbits = SIMD8<Int64>(repeating: Int64(bitPattern: magic.bitPattern))
        let px = UnsafeRawPointer(x.baseAddress), pl = UnsafeMutableRawPointer(low.baseAddress)
        var i = 0
        var failed = false
        while i + 8 <= n {
            let s = SIMD8<Double>(px.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)) * sv
            // NaN compares false, so it fails this test too.
            if !all((s .< limit) .& (s .> 0 - limit)) {
                failed = true
                break
            }
            var r = unsafeBitCast(s + mv, to: SIMD8<Int64>.self) &- mbits
            if sign < 0 { r = 0 &- r }
            let cur = pl.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 8, as: SIMD8<Int64>.self)
            pl.unsafelyUnwrapped.storeBytes(of: cur &+ r, toByteOffset: i &* 8, as: SIMD8<Int64>.self)
            i += 8
        }
        if !failed {
            while i < n {
                let s = Double(x[i]) * scale
                if !(abs(s) < fastLimit) {
                    failed = true
                    break
                }
                low[i] &+= sign &* roundToInt(s)
                i += 1
            }
        }
        if failed {
            for j in 0..<i { low[j] &-= sign &* roundToInt(Double(x[j]) * scale) }
            return false
        }
        return true
    }

    /// Splits each scaled value `s` into `hi·2^32 + lo` (both rounded exactly) for |s| < 2^83.
    static func addWide(
        _ x: UnsafeBufferPointer<Float>, scale: Double,
        low: UnsafeMutableBufferPointer<Int64>, high: UnsafeMutableBufferPointer<Int64>
    ) {
        for i in 0..<x.count {
            let s = Double(x[i]) * scale
            let hi = roundToInt(s * 0x1.0p-32)
            // Exact: s and hi·2^32 are multiples of ulp(s) and differ by at most 2^31.
            let lo = s - Double(hi) * 0x1.0p32
            high[i] &+= hi
            low[i] &+= roundToInt(lo)
        }
    }

    @inlinable @inline(__always)
    static func roundToInt(_ v: Double) -> Int64 {
        Int64(bitPattern: (v + magic).bitPattern) &- Int64(bitPattern: magic.bitPattern)
    }

    static func append(_ v: UInt64, to out: inout [UInt8]) {
        for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(b)))) }
    }
}

/// Why a vector could not be added to an ``ExactAccumulator``.
public enum AccumulatorError: Error, Hashable, CustomStringConvertible {
    case lengthMismatch(expected: Int, actual: Int)
    case invalidWeight(Double)
    case outOfRange(index: Int, value: Float, weight: Double)
    case resolutionMismatch(expected: Int, actual: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case .lengthMismatch(let e, let a): "vector has \(a) elements, the aggregate has \(e)"
        case .invalidWeight(let w): "weight \(w) is not a finite non-negative number"
        case .outOfRange(let i, let v, let w):
            "element \(i) = \(v) times weight \(w) is not finite or exceeds the aggregation range (|w·x| < 3e10)"
        case .resolutionMismatch(let e, let a): "accumulator resolution 2^-\(a) differs from 2^-\(e)"
        case .malformed(let m): "malformed accumulator: \(m)"
        }
    }
}
