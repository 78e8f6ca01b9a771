/// SIMD kernels over contiguous Float32 buffers.
///
/// All kernels process 16 lanes at a time with several independent accumulators, so that reductions are not bound
/// by the latency of one add chain, and finish the tail element by element. Results depend only on the inputs and
/// their length, never on alignment or threading.
public enum Vector {
    /// The SIMD width every kernel uses.
    public typealias Lanes = SIMD16<Float>

    /// Returns `a * b + c`, fused when the build targets a CPU with FMA (`-DCOHORT_FMA`), otherwise two operations.
    ///
    /// Without an FMA-capable target, `addingProduct` compiles to one library call per lane, which is 30x slower
    /// than a separate multiply and add.
    @inlinable @inline(__always)
    public static func multiplyAdd(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes {
        #if COHORT_FMA
        return c.addingProduct(a, b)
        #else
        return c + a * b
        #endif
    }

    /// Dot product of two equally long buffers.
    @inlinable
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
        let n = x.count
        var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
        var i = 0
        let px = UnsafeRawPointer(x.baseAddress), py = UnsafeRawPointer(y.baseAddress)
        while i + 64 <= n {
            a0 = multiplyAdd(load(px, i), load(py, i), a0)
            a1 = multiplyAdd(load(px, i + 16), load(py, i + 16), a1)
            a2 = multiplyAdd(load(px, i + 32), load(py, i + 32), a2)
            a3 = multiplyAdd(load(px, i + 48), load(py, i + 48), a3)
            i += 64
        }
        while i + 16 <= n {
            a0 = multiplyAdd(load(px, i), load(py, i), a0)
            i += 16
        }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n {
            s += x[i] * y[i]
            i += 1
        }
        return s
    }

    /// `y += alpha * x`.
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == y.count, "axpy: lengths \(x.count) and \(y.count) differ")
        let n = x.count
        let a = Lanes(repeating: alpha)
        var i = 0
        let px = UnsafeRawPointer(x.baseAddress), py = UnsafeMutableRawPointer(y.baseAddress)
        while i + 16 <= n {
            store(multiplyAdd(a, load(px, i), load(UnsafeRawPointer(py), i)), py, i)
            i += 16
        }
        while i < n {
            y[i] += alpha * x[i]
            i += 1
        }
    }

    /// `x *= alpha`.
    @inlinable
    public static func scale(_ alpha: Float, _ x: UnsafeMutableBufferPointer<Float>) {
        let n = x.count
        let a = Lanes(repeating: alpha)
        var i = 0
        let p = UnsafeMutableRawPointer(x.baseAddress)
        while i + 16 <= n {
            store(load(UnsafeRawPointer(p), i) * a, p, i)
            i += 16
        }
        while i < n {
            x[i] *= alpha
            i += 1
        }
    }

    /// Sum of the elements, accumulated in Float64 so that long vectors lose no precision.
    @inlinable
    public static func sum(_ x: UnsafeBufferPointer<Float>) -> Double {
        let n = x.count
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
        var i = 0
        let p = UnsafeRawPointer(x.baseAddress)
        while i + 16 <= n {
            let v = load(p, i)
            a0 += SIMD8<Double>(v.lowHalf)
            a1 += SIMD8<Double>(v.highHalf)
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < n {
            s += Double(x[i])
            i += 1
        }
        return s
    }

    /// Sum of squares, accumulated in Float64.
    @inlinable
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        let n = x.count
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
        var i = 0
        let p = UnsafeRawPointer(x.baseAddress)
        while i + 16 <= n {
            let v = load(p, i)
            let lo = SIMD8<Double>(v.lowHalf), hi = SIMD8<Double>(v.highHalf)
            a0 += lo * lo
            a1 += hi * hi
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < n {
            s += Double(x[i]) * Double(x[i])
            i += 1
        }
        return s
    }

    /// Euclidean norm, computed in Float64.
    @inlinable
    public static func norm(_ x: UnsafeBufferPointer<Float>) -> Double {
        sumOfSquares(x).squareRoot()
    }

    /// Whether every element is finite (no NaN, no infinity).
    @inlinable
    public static func allFinite(_ x: UnsafeBufferPointer<Float>) -> Bool {
        // NaN and infinities are the only values whose exponent bits are all ones.
        let n = x.count
        var i = 0
        let p = UnsafeRawPointer(x.baseAddress)
        let mask = SIMD16<UInt32>(repeating: 0x7F80_0000)
        while i + 16 <= n {
            let bits = unsafeBitCast(load(p, i), to: SIMD16<UInt32>.self)
            if any((bits & mask) .== mask) { return false }
            i += 16
        }
        while i < n {
            if !x[i].isFinite { return false }
            i += 1
        }
        return true
    }

    /// Index of the first non-finite element, if any.
    public static func firstNonFinite(_ x: UnsafeBufferPointer<Float>) -> Int? {
        guard !allFinite(x) else { return nil }
        return x.firstIndex { !$0.isFinite }
    }

    @inlinable @inline(__always)
    static func load(_ base: UnsafeRawPointer?, _ i: Int) -> Lanes {
        base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Lanes.self)
    }

    @inlinable @inline(__always)
    static func store(_ v: Lanes, _ base: UnsafeMutableRawPointer?, _ i: Int) {
        base.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: i &* 4, as: Lanes.self)
    }
}

extension Array where Element == Float {
    /// Dot product with another array of the same length.
    @inlinable
    public func dot(_ other: [Float]) -> Float {
        self.withUnsafeBufferPointer { x in other.withUnsafeBufferPointer { y in Vector.dot(x, y) } }
    }

    /// `self += alpha * x`.
    @inlinable
    public mutating func addScaled(_ x: [Float], by alpha: Float) {
        x.withUnsafeBufferPointer { xp in self.withUnsafeMutableBufferPointer { Vector.axpy(alpha, xp, $0) } }
    }

    /// `self *= alpha`.
    @inlinable
    public mutating func scale(by alpha: Float) {
        self.withUnsafeMutableBufferPointer { Vector.scale(alpha, $0) }
    }

    /// Euclidean norm, in Float64.
    @inlinable
    public var l2Norm: Double { self.withUnsafeBufferPointer { Vector.norm($0) } }

    /// Whether every element is finite.
    @inlinable
    public var allFinite: Bool { self.withUnsafeBufferPointer { Vector.allFinite($0) } }
}
