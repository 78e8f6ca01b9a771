#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time consumed by the calling thread, for the simulation's per-party cost accounting (work done, not time
/// waited; other processes on the machine do not inflate it). Shared with `cohort bench secagg`.
package enum ThreadCPUClock {
    /// Seconds of CPU time used by this thread so far.
    package static func now() -> Double { Self.seconds(CLOCK_THREAD_CPUTIME_ID) }

    /// Seconds of CPU time used by all threads of this process so far (for work that may run on several threads).
    package static func processNow() -> Double { Self.seconds(CLOCK_PROCESS_CPUTIME_ID) }

    private static func seconds(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs `body` and adds its CPU seconds to `total`.
    static func measure<T, E: Error>(_ total: inout Double, _ body: () throws(E) -> T) throws(E) -> T {
        let start = Self.now()
        defer { total += Self.now() - start }
        return try body()
    }
}
