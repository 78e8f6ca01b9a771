import CohortModel
import CohortStrategy
import CohortTensor
import Testing

@Suite("Order independence")
struct OrderIndependenceTests {
    /// 13 updates of 5,000 parameters: 10 honest, 3 outliers (scaled, flipped, noise), and ties (two identical).
    static let updates: [SiteUpdate] = {
        var u = Rounds.random(count: 10, d: 5_000, seed: 21)
        u.append(Rounds.update("x-scaled", u[0].delta.map { $0 * 100 }))
        u.append(Rounds.update("x-flipped", u[1].delta.map { $0 * -4 }))
        var rng = RandomSource(seed: 5)
        u.append(Rounds.update("x-noise", (0..<5_000).map { _ in Float(rng.gaussian() * 3) }))
        u.append(Rounds.update("y-twin", u[2].delta, examples: u[2].exampleCount))
        return u
    }()

    /// The outcome for the natural order, and that every shuffled arrival order gives the same bytes.
    func check<S: Strategy>(_ strategy: S) throws -> RoundOutcome where S.Aggregator == BufferedAggregator {
        let reference = try Rounds.outcome(strategy, Self.updates)
        var rng = RandomSource(seed: 99)
        for _ in 0..<4 {
            var shuffled = Self.updates
            rng.shuffle(&shuffled)
            let o = try Rounds.outcome(strategy, shuffled)
            #expect(o.global.bytes == reference.global.bytes, "\(strategy.name)")
            #expect(o.excluded == reference.excluded && o.notes == reference.notes, "\(strategy.name)")
        }
        return reference
    }

    @Test("every robust rule gives identical bytes, exclusions and notes whatever the arrival order")
    func shuffledArrivals() throws {
        _ = try self.check(CoordinateMedian())
        _ = try self.check(TrimmedMean(trimFraction: 0.25))
        let krum = try self.check(Krum(byzantine: 3))
        #expect(krum.excluded.count == 13)
        let multi = try self.check(Krum(byzantine: 3, selected: nil))
        #expect(Set(multi.excluded.map(\.site)) == ["x-scaled", "x-flipped", "x-noise"])
        let bulyan = try self.check(Bulyan(byzantine: 2))
        #expect(Set(bulyan.excluded.map(\.site)).isSuperset(of: ["x-scaled", "x-flipped", "x-noise"]))
        let clip = try self.check(NormBound(multiple: 3, mode: .clip))
        #expect(clip.notes.count >= 2)
        let drop = try self.check(NormBound(multiple: 3, mode: .drop))
        #expect(Set(drop.excluded.map(\.site)).isSuperset(of: ["x-scaled", "x-noise"]))
    }
}
