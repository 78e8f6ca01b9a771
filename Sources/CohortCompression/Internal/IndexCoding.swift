/// Sparse index sections: delta varints or a bitmap, whichever is smaller for the indices at hand.
///
/// Varints cost about `log2(d / k) / 7` bytes per index (1.3 bytes at 1% density), a bitmap `d / 8` bytes whatever
/// k is, so the bitmap wins only above roughly 1/10 density.
enum IndexCoding {
    /// Bytes of the delta-varint encoding of ascending `indices`.
    static func varintBytes(_ indices: UnsafeBufferPointer<UInt32>) -> Int {
        var total = 0
        var next: UInt32 = 0
        for i in indices {
            total += Self.varintLength(i &- next)
            next = i &+ 1
        }
        return total
    }

    /// Bytes of a bitmap over `count` entries.
    static func bitmapBytes(count: Int) -> Int { (count + 7) / 8 }

    /// Writes the gaps between ascending `indices` as LEB128 varints; `out` has exactly ``varintBytes(_:)`` bytes.
    static func writeVarints(_ indices: UnsafeBufferPointer<UInt32>, into out: UnsafeMutableRawBufferPointer) {
        var o = 0
        var next: UInt32 = 0
        for i in indices {
            var gap = i &- next
            while gap >= 0x80 {
                out[o] = UInt8(truncatingIfNeeded: gap) | 0x80
                gap >>= 7
                o += 1
            }
            out[o] = UInt8(gap)
            o += 1
            next = i &+ 1
        }
        precondition(o == out.count)
    }

    /// Writes a bitmap of `indices`; `out` has exactly ``bitmapBytes(count:)`` bytes.
    static func writeBitmap(_ indices: UnsafeBufferPointer<UInt32>, into out: UnsafeMutableRawBufferPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0)
        for i in indices { out[Int(i >> 3)] |= 1 << (i & 7) }
    }

    /// Reads `values.count` varint gaps and stores `out[index] = values[j]`.
    ///
    /// - Throws: ``CompressionError`` if a varint is longer than 5 bytes or runs past the section, an index is not
    ///   below `out.count`, or bytes are left over.
    static func scatterVarints(
        _ input: UnsafeRawBufferPointer, values: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>
    ) throws(CompressionError) {
        var o = 0
        var next = 0
        for j in 0..<values.count {
            var gap = 0
            var shift = 0
            while true {
                guard o < input.count else {
                    throw CompressionError(.truncated, "index section ends inside index \(j) of \(values.count)")
                }
                let byte = input[o]
                o += 1
                gap |= Int(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
                guard shift < 35 else { throw CompressionError(.malformed, "index gap \(j) is longer than 5 bytes") }
            }
            let index = next + gap
            guard index < out.count else {
                throw CompressionError(
                    .indexOutOfRange, "sparse index \(index) (entry \(j)) is outside a vector of \(out.count)")
            }
            out[index] = values[j]
            next = index + 1
        }
        guard o == input.count else {
            throw CompressionError(.malformed, "\(input.count - o) bytes left after \(values.count) indices")
        }
    }

    /// Reads a bitmap of `values.count` set bits and stores the values at the set positions, in order.
    ///
    /// - Throws: ``CompressionError`` if the number of set bits differs or a bit past `out.count` is set.
    static func scatterBitmap(
        _ input: UnsafeRawBufferPointer, values: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>
    ) throws(CompressionError) {
        var set = 0
        for byte in input { set += byte.nonzeroBitCount }
        guard set == values.count else {
            throw CompressionError(.malformed, "index bitmap has \(set) entries, the header says \(values.count)")
        }
        let tail = out.count % 8
        if tail != 0, let last = input.last, last >> tail != 0 {
            throw CompressionError(.indexOutOfRange, "index bitmap marks entries past the vector of \(out.count)")
        }
        var j = 0
        for (b, byte) in input.enumerated() where byte != 0 {
            var m = byte
            while m != 0 {
                out[b * 8 + m.trailingZeroBitCount] = values[j]
                j += 1
                m &= m - 1
            }
        }
    }

    private static func varintLength(_ v: UInt32) -> Int {
        v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : v < 1 << 28 ? 4 : 5
    }
}
