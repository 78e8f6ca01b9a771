extension RandomNumberGenerator {
    /// `count` random bytes, 8 at a time from `next()` (little-endian).
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            let w = self.next()
            for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * b))) }
        }
        return Array(out.prefix(count))
    }
}
