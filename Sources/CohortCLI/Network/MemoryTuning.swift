#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for the long-running roles.
enum MemoryTuning {
    /// Keeps freed model-sized blocks in the heap instead of returning them to the kernel after every round.
    ///
    /// glibc serves blocks above 128 KiB with `mmap` and unmaps them on `free`; a coordinator or site that allocates
    /// and frees several model-sized buffers per round then pays a page fault and a zeroed page for every 4 KiB of
    /// them, every round. Raising the thresholds makes those buffers reusable. (`mallopt` is looked up at run time:
    /// the Glibc module does not import `malloc.h`.)
    static func applyForSites() {
        self.set(mmapThreshold: 256 << 20, trimThreshold: 512 << 20, arenas: nil)
    }

    /// The coordinator's memory is bounded instead: model-sized blocks go straight back to the kernel (a fixed mmap
    /// threshold turns off glibc's dynamic raising of it), and two arenas stop many threads from each keeping freed
    /// megabytes of their own.
    static func applyForCoordinator() {
        self.set(mmapThreshold: 2 << 20, trimThreshold: 8 << 20, arenas: 2)
    }

    private static func set(mmapThreshold: Int32, trimThreshold: Int32, arenas: Int32?) {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mMmapThreshold: Int32 = -3, mTrimThreshold: Int32 = -1, mArenaMax: Int32 = -8
        _ = mallopt(mMmapThreshold, mmapThreshold)
        _ = mallopt(mTrimThreshold, trimThreshold)
        if let arenas { _ = mallopt(mArenaMax, arenas) }
        #endif
    }
}
