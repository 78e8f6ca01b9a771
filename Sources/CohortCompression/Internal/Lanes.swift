/// Unaligned 16-lane loads and stores for the codec kernels.
enum Lanes {
    /// Loads 16 Float32 values starting at element `i`.
    @inline(__always)
    static func load(_ base: UnsafeRawPointer?, _ i: Int) -> SIMD16<Float> {
        base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
    }

    /// Stores 16 Float32 values starting at element `i`.
    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ base: UnsafeMutableRawPointer?, _ i: Int) {
        base.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD16<Float>.self)
    }
}
