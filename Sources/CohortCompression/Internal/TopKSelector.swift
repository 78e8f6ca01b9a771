/// Exact top-k selection by magnitude in O(d) worst-case time: a most-significant-digit radix select on the IEEE
/// bit patterns of `|a[i]|`, which order like the magnitudes themselves.
///
/// A histogram of the top 11 bits (exponent and 3 mantissa bits) finds the bucket that holds the k-th largest
/// magnitude; only that bucket's members are collected and refined by 10 bits, then the last 10, which gives the
/// exact k-th largest bit pattern `T`. Every entry above `T` is selected, and among entries equal to `T` the lowest
/// indices (a stable tie break). Nothing is sorted; a final pass emits the indices in ascending order, which is the
/// order the sparse format stores them in.
enum TopKSelector {
    /// Slots the output needs beyond k.
    static let slack = 16

    /// Writes the indices of the `k` largest `|a[i]|` into `indices[0..<k]` (ascending; ties go to the lower index).
    ///
    /// `a` must hold no NaN, and `indices` needs ``slack`` slots beyond k, which may be overwritten.
    static func select(_ a: UnsafeBufferPointer<Float>, k: Int, into indices: UnsafeMutableBufferPointer<UInt32>) {
        let n = a.count
        precondition(k >= 0 && k <= n && indices.count >= k + Self.slack)
        if k == 0 { return }
        if k == n {
            for i in 0..<n { indices[i] = UInt32(i) }
            return
        }
        let bits = UnsafeRawBufferPointer(a).bindMemory(to: UInt32.self)
        let mask: UInt32 = 0x7FFF_FFFF
        var threshold: UInt32 = 0
        var cutoff = Int.max
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2048) { hist in
            // Level 1: bits 30...20.
            hist.initialize(repeating: 0)
            for i in 0..<n { hist[Int((bits[i] & mask) >> 20)] &+= 1 }
            let (top, need1) = Self.bucket(hist, 2048, needing: k)
            threshold = UInt32(top) << 20
            if need1 == hist[top] { return }
            var candidates = [UInt32]()
            candidates.reserveCapacity(hist[top])
            for i in 0..<n where (bits[i] & mask) >> 20 == UInt32(top) { candidates.append(UInt32(i)) }
            // Level 2: bits 19...10, among the candidates.
            hist.initialize(repeating: 0)
            for c in candidates { hist[Int((bits[Int(c)] >> 10) & 1023)] &+= 1 }
            let (mid, need2) = Self.bucket(hist, 1024, needing: need1)
            threshold |= UInt32(mid) << 10
            if need2 == hist[mid] { return }
            candidates.removeAll { (bits[Int($0)] >> 10) & 1023 != UInt32(mid) }
            // Level 3: bits 9...0 give the exact k-th largest pattern; ties go to the lowest indices.
            hist.initialize(repeating: 0)
            for c in candidates { hist[Int(bits[Int(c)] & 1023)] &+= 1 }
            let (low, need3) = Self.bucket(hist, 1024, needing: need2)
            threshold |= UInt32(low)
            if need3 == hist[low] { return }
            var seen = 0
            for c in candidates where bits[Int(c)] & 1023 == UInt32(low) {
                seen += 1
                if seen == need3 {
                    cutoff = Int(c)
                    break
                }
            }
        }
        Self.emit(bits, threshold: threshold, cutoff: cutoff, k: k, into: indices)
    }

    /// The highest bucket `b` at which the count of entries in buckets `>= b` reaches `k`, and how many entries of
    /// bucket `b` are needed.
    private static func bucket(_ hist: UnsafeMutableBufferPointer<Int>, _ size: Int, needing k: Int) -> (Int, Int) {
        var above = 0
        var b = size - 1
        while above + hist[b] < k {
            above += hist[b]
            b -= 1
        }
        return (b, k - above)
    }

    /// Emits, in index order, every entry whose magnitude pattern exceeds `threshold`, and entries equal to it up to
    /// index `cutoff`. Sixteen lanes are compared at once; most chunks hold no selected entry.
    private static func emit(
        _ bits: UnsafeBufferPointer<UInt32>, threshold: UInt32, cutoff: Int, k: Int,
        into indices: UnsafeMutableBufferPointer<UInt32>
    ) {
        let n = bits.count
        let maskV = SIMD16<UInt32>(repeating: 0x7FFF_FFFF), t = SIMD16<UInt32>(repeating: threshold)
        let base = UnsafeRawPointer(bits.baseAddress)
        var j = 0
        var i = 0
        while i + 16 <= n {
            let m = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<UInt32>.self) & maskV
            if any(m .>= t) {
                // Branch-free compaction: write every index, advance past the selected ones. `indices` has 16 slots
                // of slack, so the writes past the last selected entry stay in bounds.
                for l in 0..<16 {
                    let v = bits[i + l] & 0x7FFF_FFFF
                    indices[j] = UInt32(i + l)
                    j += v > threshold || (v == threshold && i + l <= cutoff) ? 1 : 0
                }
            }
            i += 16
        }
        while i < n {
            let m = bits[i] & 0x7FFF_FFFF
            if m > threshold || (m == threshold && i <= cutoff) {
                indices[j] = UInt32(i)
                j += 1
            }
            i += 1
        }
        precondition(j == k, "top-k emitted \(j) of \(k) entries")
    }
}
