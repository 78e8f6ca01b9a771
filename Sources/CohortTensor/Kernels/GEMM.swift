import Dispatch

/// Whether a matrix operand is used as stored or transposed.
public enum MatrixOperation: Sendable, Hashable {
    /// Use the matrix as stored.
    case none
    /// Use the transpose of the stored matrix.
    case transpose
}

/// General matrix multiplication on row-major Float32 matrices: `C = alpha * op(A) * op(B) + beta * C`.
///
/// Large products use a packed, blocked algorithm (Goto and van de Geijn, "Anatomy of High-Performance Matrix
/// Multiplication", ACM TOMS 2008): panels of `op(B)` are packed into 16-column strips and panels of `op(A)` into
/// 6-row strips, and a 6x16 register-blocked micro-kernel accumulates in twelve 8-wide vector registers. Tiles of C
/// are spread over all cores. Every element of C is produced by one thread, summing over K in a fixed order, so the
/// result is bit-identical whatever the number of threads.
public enum GEMM {
    @usableFromInline static let mr = 6
    @usableFromInline static let nr = 16
    @usableFromInline static let kc = 256
    @usableFromInline static let mc = 96
    @usableFromInline static let nc = 4096
    @usableFromInline static let tileColumns = 128
    /// Products with fewer multiply-adds than this use a direct loop (packing would cost more than it saves).
    @usableFromInline static let blockedThreshold = 48 * 48 * 48
    /// Products with more multiply-adds than this are spread over threads.
    @usableFromInline static let parallelThreshold = 1 << 21

    /// Computes `C = alpha * op(A) * op(B) + beta * C`.
    ///
    /// - Parameters:
    ///   - m: Rows of `op(A)` and `C`.
    ///   - n: Columns of `op(B)` and `C`.
    ///   - k: Columns of `op(A)`, rows of `op(B)`.
    ///   - a: `A`, stored `m x k` (or `k x m` when transposed) with row stride `lda`.
    ///   - b: `B`, stored `k x n` (or `n x k` when transposed) with row stride `ldb`.
    ///   - c: `C`, `m x n` with row stride `ldc`. With `beta == 0` its prior contents are ignored (even NaN).
    ///   - threads: Upper bound on threads; 1 keeps the call on the calling thread.
    public static func multiply(
        _ opA: MatrixOperation, _ opB: MatrixOperation,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int = ProcessorCount.active
    ) {
        guard m > 0, n > 0 else { return }
        scaleC(beta: beta, c: c, m: m, n: n, ldc: ldc)
        guard k > 0, alpha != 0 else { return }
        let operands = Operands(opA: opA, opB: opB, a: a, lda: lda, b: b, ldb: ldb)
        if m * n * k < blockedThreshold {
            direct(operands, m: m, n: n, k: k, alpha: alpha, c: c, ldc: ldc)
        } else {
            blocked(operands, m: m, n: n, k: k, alpha: alpha, c: c, ldc: ldc,
                    threads: m * n * k >= parallelThreshold ? max(1, threads) : 1)
        }
    }

    /// Convenience over arrays: returns `op(A) * op(B)` as an `m x n` array.
    public static func product(
        _ a: [Float], _ opA: MatrixOperation = .none, _ b: [Float], _ opB: MatrixOperation = .none,
        m: Int, n: Int, k: Int
    ) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    multiply(
                        opA, opB, m: m, n: n, k: k,
                        a: pa.baseAddress!, lda: opA == .none ? k : m,
                        b: pb.baseAddress!, ldb: opB == .none ? n : k,
                        c: pc.baseAddress!, ldc: n
                    )
                }
            }
        }
        return c
    }

    // MARK: - Internals

    /// Raw operand pointers; `@unchecked Sendable` because the pointed-to memory is only read while the call runs.
    @usableFromInline
    struct Operands: @unchecked Sendable {
        let opA: MatrixOperation, opB: MatrixOperation
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int

        @inline(__always) func elementA(_ i: Int, _ p: Int) -> Float {
            self.opA == .none ? self.a[i &* self.lda &+ p] : self.a[p &* self.lda &+ i]
        }

        @inline(__always) func elementB(_ p: Int, _ j: Int) -> Float {
            self.opB == .none ? self.b[p &* self.ldb &+ j] : self.b[j &* self.ldb &+ p]
        }
    }

    /// Writable C; `@unchecked Sendable` because threads write disjoint tiles.
    struct Output: @unchecked Sendable {
        let c: UnsafeMutablePointer<Float>
        let ldc: Int
    }

    static func scaleC(beta: Float, c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int) {
        guard beta != 1 else { return }
        for i in 0..<m {
            let row = UnsafeMutableBufferPointer(start: c + i * ldc, count: n)
            if beta == 0 {
                row.update(repeating: 0)
            } else {
                Vector.scale(beta, row)
            }
        }
    }

    static func direct(_ o: Operands, m: Int, n: Int, k: Int, alpha: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if o.opB == .none {
            // Row of C += A(i,p) * row p of B: contiguous, vectorised.
            for i in 0..<m {
                let crow = UnsafeMutableBufferPointer(start: c + i * ldc, count: n)
                for p in 0..<k {
                    let aip = alpha * o.elementA(i, p)
                    if aip == 0 { continue }
                    Vector.axpy(aip, UnsafeBufferPointer(start: o.b + p * o.ldb, count: n), crow)
                }
            }
        } else {
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    if o.opA == .none {
                        s = Vector.dot(
                            UnsafeBufferPointer(start: o.a + i * o.lda, count: k),
                            UnsafeBufferPointer(start: o.b + j * o.ldb, count: k)
                        )
                    } else {
                        for p in 0..<k { s += o.elementA(i, p) * o.elementB(p, j) }
                    }
                    c[i * ldc + j] += alpha * s
                }
            }
        }
    }

    static func blocked(
        _ o: Operands, m: Int, n: Int, k: Int, alpha: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        let mPanels = (m + mr - 1) / mr
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: mPanels * mr * kc)
        defer { packedA.deallocate() }
        let ncMax = min(n, nc)
        let nPanelsMax = (ncMax + nr - 1) / nr
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: nPanelsMax * nr * kc)
        defer { packedB.deallocate() }
        let out = Output(c: c, ldc: ldc)

        var jc = 0
        while jc < n {
            let ncur = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kcur = min(kc, k - pc)
                packB(o, pc: pc, kcur: kcur, jc: jc, ncur: ncur, into: packedB)
                packA(o, pc: pc, kcur: kcur, m: m, into: packedA)
                let pa = UnsafePointer(packedA), pb = UnsafePointer(packedB)
                let panels = Panels(a: pa, b: pb)
                let mBlocks = (m + mc - 1) / mc
                let nBlocks = (ncur + tileColumns - 1) / tileColumns
                let tiles = mBlocks * nBlocks
                let jcur = jc
                let body: @Sendable (Int) -> Void = { t in
                    let ib = t / nBlocks, jb = t % nBlocks
                    tile(
                        panels, kcur: kcur, alpha: alpha, out: out,
                        rows: (ib * mc)..<min(m, (ib + 1) * mc),
                        columns: (jb * tileColumns)..<min(ncur, (jb + 1) * tileColumns),
                        jc: jcur
                    )
                }
                if threads > 1 && tiles > 1 {
                    DispatchQueue.concurrentPerform(iterations: tiles, execute: body)
                } else {
                    for t in 0..<tiles { body(t) }
                }
                pc += kcur
            }
            jc += ncur
        }
    }

    /// Packed panels; `@unchecked Sendable` because they are read-only while tiles run.
    struct Panels: @unchecked Sendable {
        let a: UnsafePointer<Float>
        let b: UnsafePointer<Float>
    }

    /// Packs `op(A)[0..<m, pc..<pc+kcur]` as strips of 6 rows, k-major within a strip, zero-padded.
    static func packA(_ o: Operands, pc: Int, kcur: Int, m: Int, into dst: UnsafeMutablePointer<Float>) {
        let panels = (m + mr - 1) / mr
        for panel in 0..<panels {
            let base = dst + panel * mr * kcur
            let i0 = panel * mr
            let rows = min(mr, m - i0)
            if o.opA == .none {
                for r in 0..<mr {
                    if r < rows {
                        let src = o.a + (i0 + r) * o.lda + pc
                        for p in 0..<kcur { base[p * mr + r] = src[p] }
                    } else {
                        for p in 0..<kcur { base[p * mr + r] = 0 }
                    }
                }
            } else {
                for p in 0..<kcur {
                    let src = o.a + (pc + p) * o.lda + i0
                    for r in 0..<mr { base[p * mr + r] = r < rows ? src[r] : 0 }
                }
            }
        }
    }

    /// Packs `op(B)[pc..<pc+kcur, jc..<jc+ncur]` as strips of 16 columns, k-major within a strip, zero-padded.
    static func packB(_ o: Operands, pc: Int, kcur: Int, jc: Int, ncur: Int, into dst: UnsafeMutablePointer<Float>) {
        let panels = (ncur + nr - 1) / nr
        for panel in 0..<panels {
            let base = dst + panel * nr * kcur
            let j0 = jc + panel * nr
            let cols = min(nr, jc + ncur - j0)
            if o.opB == .none {
                for p in 0..<kcur {
                    let src = o.b + (pc + p) * o.ldb + j0
                    let d = base + p * nr
                    if cols == nr {
                        UnsafeMutableRawPointer(d).storeBytes(
                            of: UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    } else {
                        for col in 0..<nr { d[col] = col < cols ? src[col] : 0 }
                    }
                }
            } else {
                for col in 0..<nr {
                    if col < cols {
                        let src = o.b + (j0 + col) * o.ldb + pc
                        for p in 0..<kcur { base[p * nr + col] = src[p] }
                    } else {
                        for p in 0..<kcur { base[p * nr + col] = 0 }
                    }
                }
            }
        }
    }

    static func tile(
        _ panels: Panels, kcur: Int, alpha: Float, out: Output, rows: Range<Int>, columns: Range<Int>, jc: Int
    ) {
        var j = columns.lowerBound
        while j < columns.upperBound {
            let pb = panels.b + (j / nr) * nr * kcur
            let ncols = min(nr, columns.upperBound - j)
            var i = rows.lowerBound
            while i < rows.upperBound {
                let pa = panels.a + (i / mr) * mr * kcur
                let nrows = min(mr, rows.upperBound - i)
                microKernel(
                    kcur: kcur, pa: pa, pb: pb, alpha: alpha,
                    c: out.c + i * out.ldc + jc + j, ldc: out.ldc, rows: nrows, cols: ncols
                )
                i += mr
            }
            j += nr
        }
    }

    @inline(__always)
    static func microKernel(
        kcur: Int, pa: UnsafePointer<Float>, pb: UnsafePointer<Float>, alpha: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int
    ) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        let rb = UnsafeRawPointer(pb)
        var a = pa
        for p in 0..<kcur {
            let bv = rb.load(fromByteOffset: p &* 64, as: V.self)
            c0 = Vector.multiplyAdd(V(repeating: a[0]), bv, c0)
            c1 = Vector.multiplyAdd(V(repeating: a[1]), bv, c1)
            c2 = Vector.multiplyAdd(V(repeating: a[2]), bv, c2)
            c3 = Vector.multiplyAdd(V(repeating: a[3]), bv, c3)
            c4 = Vector.multiplyAdd(V(repeating: a[4]), bv, c4)
            c5 = Vector.multiplyAdd(V(repeating: a[5]), bv, c5)
            a += 6
        }
        let av = V(repeating: alpha)
        if alpha != 1 {
            c0 *= av; c1 *= av; c2 *= av; c3 *= av; c4 *= av; c5 *= av
        }
        let acc = (c0, c1, c2, c3, c4, c5)
        withUnsafeBytes(of: acc) { raw in
            let vals = raw.bindMemory(to: Float.self)
            if cols == nr {
                for r in 0..<rows {
                    let dst = UnsafeMutableRawPointer(c + r * ldc)
                    let cur = dst.loadUnaligned(as: V.self)
                    dst.storeBytes(of: cur + raw.loadUnaligned(fromByteOffset: r * 64, as: V.self), as: V.self)
                }
            } else {
                for r in 0..<rows {
                    for col in 0..<cols { c[r * ldc + col] += vals[r * nr + col] }
                }
            }
        }
    }
}

/// The number of cores this process may use.
public enum ProcessorCount {
    /// Active processors, at least 1.
    public static var active: Int { max(1, ProcessInfoShim.activeProcessorCount) }
}
