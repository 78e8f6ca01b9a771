import CohortTensor

/// Per-block min-max quantisation with unbiased stochastic rounding (Konečný et al. 2016, "Federated Learning:
/// Strategies for Improving Communication Efficiency", section 3; the rounding is QSGD's, Alistarh et al. 2017).
///
/// Each block of `blockSize` values stores its minimum `lo` and maximum `hi` as Float32, and each value `x` the level
/// `q = floor((x - lo) / step + u)` with `step = (hi - lo) / (2^bits - 1)` and `u` uniform in [0, 1), so that
/// `E[lo + q * step] = x` and `|lo + q * step - x| < step`. Kernels run 16 lanes at a time; block sizes are multiples
/// of 16, so only the last block can have a scalar tail. Float-to-integer conversions truncate (`cvttps2dq` on
/// baseline x86-64), never call `floor`, which is a library call per lane without SSE4.1.
enum BlockQuantizer {
    typealias Floats = SIMD16<Float>

    /// Largest magnitude a quantised value may have (2^126), so that `hi - lo` and `q * step` stay finite.
    static let magnitudeLimitBits: UInt32 = 0x7E80_0000

    /// Writes the values section for `x` into `out` (exactly ``UpdateHeader/valuesBytes(count:bits:blockSize:)``
    /// bytes) and, if given, the values the decoder will reconstruct into `decoded`.
    ///
    /// Consumes one 64-bit draw per two values (one per value in a scalar tail) when stochastic, none otherwise.
    static func encode(
        _ x: UnsafeBufferPointer<Float>, bits: Int, blockSize: Int, stochastic: Bool, rng: inout RandomSource,
        into out: UnsafeMutableRawBufferPointer, decoded: UnsafeMutableBufferPointer<Float>?
    ) {
        let n = x.count
        let blocks = (n + blockSize - 1) / blockSize
        let levels = (1 << bits) - 1
        let levelBase = out.baseAddress.unsafelyUnwrapped + 8 * blocks
        let px = UnsafeRawPointer(x.baseAddress)
        for b in 0..<blocks {
            let start = b * blockSize, end = min(n, start + blockSize)
            let (lo, hi) = Self.minMax(x, start, end)
            out.storeBytes(of: lo, toByteOffset: 8 * b, as: Float.self)
            out.storeBytes(of: hi, toByteOffset: 8 * b + 4, as: Float.self)
            let step = Self.step(lo: lo, hi: hi, levels: levels)
            let inv: Float = hi > lo ? Float(Double(levels) / (Double(hi) - Double(lo))) : 0
            let loV = Floats(repeating: lo), invV = Floats(repeating: inv),
                maxQ = SIMD16<Int32>(repeating: Int32(levels))
            var i = start
            while i + 16 <= end {
                let u = stochastic ? Self.uniforms(&rng) : Floats(repeating: 0.5)
                var q = Self.floor((Lanes.load(px, i) - loV) * invV + u)
                q.replace(with: maxQ, where: q .> maxQ)
                if bits == 8 {
                    levelBase.storeBytes(
                        of: SIMD16<UInt8>(truncatingIfNeeded: q), toByteOffset: i, as: SIMD16<UInt8>.self)
                } else {
                    let packed = q.evenHalf | (q.oddHalf &<< 4)
                    levelBase.storeBytes(
                        of: SIMD8<UInt8>(truncatingIfNeeded: packed), toByteOffset: i / 2, as: SIMD8<UInt8>.self)
                }
                if let decoded {
                    Lanes.store(
                        Self.dequantize(q, lo: lo, step: step, hi: hi), UnsafeMutableRawPointer(decoded.baseAddress), i)
                }
                i += 16
            }
            while i < end {
                let u: Float = stochastic ? Float(rng.next() >> 40) * 0x1.0p-24 : 0.5
                let q = min(Int32((x[i] - lo) * inv + u), Int32(levels))
                if bits == 8 {
                    levelBase.storeBytes(of: UInt8(q), toByteOffset: i, as: UInt8.self)
                } else if i % 2 == 0 {
                    levelBase.storeBytes(of: UInt8(q), toByteOffset: i / 2, as: UInt8.self)
                } else {
                    let low = levelBase.load(fromByteOffset: i / 2, as: UInt8.self)
                    levelBase.storeBytes(of: low | UInt8(q) << 4, toByteOffset: i / 2, as: UInt8.self)
                }
                decoded?[i] = min(lo + Float(q) * step, hi)
                i += 1
            }
        }
    }

    /// Decodes a values section of `out.count` values.
    ///
    /// - Throws: ``CompressionError`` if a block's minimum or maximum is not finite or the minimum exceeds the maximum.
    static func decode(
        _ input: UnsafeRawBufferPointer, bits: Int, blockSize: Int, into out: UnsafeMutableBufferPointer<Float>
    ) throws(CompressionError) {
        let n = out.count
        let blocks = (n + blockSize - 1) / blockSize
        let levels = (1 << bits) - 1
        let levelBase = input.baseAddress.unsafelyUnwrapped + 8 * blocks
        let po = UnsafeMutableRawPointer(out.baseAddress)
        for b in 0..<blocks {
            let lo = input.loadUnaligned(fromByteOffset: 8 * b, as: Float.self)
            let hi = input.loadUnaligned(fromByteOffset: 8 * b + 4, as: Float.self)
            guard lo.isFinite, hi.isFinite, lo <= hi else {
                throw CompressionError(.nonFiniteValue, "quantisation block \(b) has minimum \(lo) and maximum \(hi)")
            }
            let step = Self.step(lo: lo, hi: hi, levels: levels)
            let start = b * blockSize, end = min(n, start + blockSize)
            var i = start
            while i + 16 <= end {
                let q: SIMD16<Int32>
                if bits == 8 {
                    q = SIMD16<Int32>(
                        truncatingIfNeeded: levelBase.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
                } else {
                    let packed = SIMD8<Int32>(
                        truncatingIfNeeded: levelBase.loadUnaligned(fromByteOffset: i / 2, as: SIMD8<UInt8>.self))
                    var both = SIMD16<Int32>()
                    both.evenHalf = packed & 15
                    both.oddHalf = packed &>> 4
                    q = both
                }
                Lanes.store(Self.dequantize(q, lo: lo, step: step, hi: hi), po, i)
                i += 16
            }
            while i < end {
                var q = levelBase.load(fromByteOffset: bits == 8 ? i : i / 2, as: UInt8.self)
                if bits == 4 { q = i % 2 == 0 ? q & 15 : q >> 4 }
                out[i] = min(lo + Float(q) * step, hi)
                i += 1
            }
        }
    }

    /// The distance between levels; the encoder and decoder compute it identically from the stored Float32 bounds.
    @inline(__always)
    static func step(lo: Float, hi: Float, levels: Int) -> Float {
        Float((Double(hi) - Double(lo)) / Double(levels))
    }

    /// `min(lo + q * step, hi)`, the reconstruction shared by the encoder (for error feedback) and the decoder.
    @inline(__always)
    static func dequantize(_ q: SIMD16<Int32>, lo: Float, step: Float, hi: Float) -> Floats {
        var v = Floats(repeating: lo) + Floats(q) * Floats(repeating: step)
        let hiV = Floats(repeating: hi)
        v.replace(with: hiV, where: v .> hiV)
        return v
    }

    /// `floor(v)` as integers for `0 <= v < 2^22`, without a conversion instruction or library call: adding 2^23
    /// rounds `v` to the nearest integer, which then sits in the low mantissa bits; one is subtracted where that
    /// rounded up.
    @inline(__always)
    static func floor(_ v: Floats) -> SIMD16<Int32> {
        let magic = Floats(repeating: 0x1.0p23)
        let t = v + magic
        let rounded = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B00_0000
        return rounded &- SIMD16<Int32>(repeating: 0).replacing(with: 1, where: t - magic .> v)
    }

    /// Sixteen uniforms in [0, 1) with 24 bits each, from eight 64-bit draws.
    @inline(__always)
    static func uniforms(_ rng: inout RandomSource) -> Floats {
        let w = SIMD8<UInt64>(
            rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next())
        let r = unsafeBitCast(w, to: SIMD16<UInt32>.self) &>> 8
        return Floats(SIMD16<Int32>(truncatingIfNeeded: r)) * Floats(repeating: 0x1.0p-24)
    }

    /// Minimum and maximum of `x[start..<end]` (finite values).
    @inline(__always)
    static func minMax(_ x: UnsafeBufferPointer<Float>, _ start: Int, _ end: Int) -> (Float, Float) {
        var lo = x[start], hi = x[start]
        var i = start
        if end - start >= 16 {
            let px = UnsafeRawPointer(x.baseAddress)
            var mn = Lanes.load(px, i), mx = mn
            i += 16
            while i + 16 <= end {
                let v = Lanes.load(px, i)
                mn.replace(with: v, where: v .< mn)
                mx.replace(with: v, where: v .> mx)
                i += 16
            }
            lo = mn.min()
            hi = mx.max()
        }
        while i < end {
            lo = min(lo, x[i])
            hi = max(hi, x[i])
            i += 1
        }
        return (lo, hi)
    }

    /// Whether every value is finite and smaller in magnitude than 2^126 (the quantiser's range).
    static func inRange(_ x: UnsafeBufferPointer<Float>) -> Bool {
        let n = x.count
        var i = 0
        let p = UnsafeRawPointer(x.baseAddress)
        let mask = SIMD16<UInt32>(repeating: 0x7FFF_FFFF), limit = SIMD16<UInt32>(repeating: Self.magnitudeLimitBits)
        var bad = SIMDMask<SIMD16<Int32>>(repeating: false)
        while i + 16 <= n {
            let bits = unsafeBitCast(Lanes.load(p, i), to: SIMD16<UInt32>.self) & mask
            bad .|= bits .>= limit
            i += 16
        }
        if any(bad) { return false }
        while i < n {
            if x[i].bitPattern & 0x7FFF_FFFF >= Self.magnitudeLimitBits { return false }
            i += 1
        }
        return true
    }
}
