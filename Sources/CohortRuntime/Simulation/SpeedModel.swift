public import CohortTensor

/// How fast simulated sites are, in virtual seconds: heterogeneous compute (a log-normal spread, plus a fraction of
/// sites that are several times slower) and network latency per transfer.
///
/// Durations are deterministic functions of the seed, the site and the site's iteration, so asynchronous runs are
/// reproducible and take seconds of wall time whatever their virtual length.
public struct SpeedModel: Sendable, Hashable, Codable {
    /// Virtual seconds to process one example once at the median speed.
    public var secondsPerExample: Double
    /// Standard deviation of the log of per-site slowdowns.
    public var spread: Double
    /// Fraction of sites that are `slowFactor` times slower again (e.g. an old server on a slow line).
    public var slowFraction: Double
    public var slowFactor: Double
    /// Mean virtual seconds of latency per round trip (exponentially distributed).
    public var latency: Double

    public init(secondsPerExample: Double = 0.001, spread: Double = 0.5, slowFraction: Double = 0.1, slowFactor: Double = 10,
                latency: Double = 0.5) {
        self.secondsPerExample = secondsPerExample
        self.spread = spread
        self.slowFraction = slowFraction
        self.slowFactor = slowFactor
        self.latency = latency
    }

    /// Each site's slowdown factor (1 = median speed): the slowest `slowFraction` of sites (chosen by the seed) are
    /// `slowFactor` times slower on top of their log-normal draw.
    public func slowdowns(sites: [String], seed: UInt64) -> [String: Double] {
        let root = RandomSource(seed: seed).derived("speed")
        var order = sites.sorted()
        var pick = root.derived("slow")
        pick.shuffle(&order)
        let slow = Set(order.prefix(Int((self.slowFraction * Double(sites.count)).rounded())))
        var out = [String: Double]()
        for s in sites {
            var r = root.derived("site", s)
            out[s] = Math.exp(self.spread * r.gaussian()) * (slow.contains(s) ? self.slowFactor : 1)
        }
        return out
    }

    /// Virtual seconds for one local training of `examples` example-passes plus a round trip.
    public func duration(examples: Int, slowdown: Double, seed: UInt64, site: String, iteration: Int) -> Double {
        var r = RandomSource(seed: seed).derived("latency", site, String(iteration))
        let latency = self.latency > 0 ? -self.latency * Math.log(r.uniformOpen()) : 0
        return self.secondsPerExample * Double(examples) * slowdown + latency
    }
}
