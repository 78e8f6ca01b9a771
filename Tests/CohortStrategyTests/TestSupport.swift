import CohortModel
import CohortStrategy
import CohortTensor

/// Builders for aggregation tests: rounds, updates and one-shot aggregation.
enum Rounds {
    static let summary = TrainingSummary(steps: 1, examplesSeen: 1, meanLoss: 0.5)

    static func plan(_ sites: [String], round: Int = 1) -> RoundPlan {
        RoundPlan(round: round, participants: sites.sorted(),
                  instructions: TrainInstructions(round: round, training: TrainingConfig(), seed: 1))
    }

    static func update(_ site: String, _ delta: [Float], examples: Int = 10, round: Int = 1) -> SiteUpdate {
        SiteUpdate(site: site, round: round, delta: delta, exampleCount: examples, training: Self.summary)
    }

    static func zeros(_ count: Int) -> ModelParameters {
        ModelParameters(zeros: ParameterLayout([("w", [count])]))
    }

    /// Aggregates `updates` (in the given arrival order) from `global` with a fresh aggregator.
    static func outcome<S: Strategy>(
        _ strategy: S, _ updates: [SiteUpdate], global: ModelParameters? = nil
    ) throws -> RoundOutcome where S.Aggregator == BufferedAggregator {
        let g = global ?? Self.zeros(updates[0].delta.count)
        var aggregator = strategy.makeAggregator(for: Self.plan(updates.map(\.site)), global: g)
        for u in updates { try aggregator.accept(u) }
        var state = strategy.initialState(for: g)
        return strategy.completeRound(global: g, aggregator: aggregator, state: &state)
    }

    /// Named updates `(site, delta)` with 10 examples each.
    static func updates(_ pairs: [(String, [Float])]) -> [SiteUpdate] {
        pairs.map { Self.update($0.0, $0.1) }
    }

    /// `count` random updates of length `d`: `center + noise` each.
    static func random(count: Int, d: Int, seed: UInt64, scale: Double = 0.01) -> [SiteUpdate] {
        var rng = RandomSource(seed: seed)
        let center = (0..<d).map { _ in rng.gaussian() * 0.05 }
        return (0..<count).map { k in
            Self.update("site-\(k < 10 ? "0" : "")\(k)", center.map { Float($0 + rng.gaussian() * scale) },
                        examples: 1 + rng.uniformInt(below: 500))
        }
    }
}

extension ModelParameters {
    /// Whether every parameter is within `tolerance` of `expected`.
    func isClose(to expected: [Float], tolerance: Float = 1e-6) -> Bool {
        self.flat.count == expected.count && zip(self.flat, expected).allSatisfy { abs($0 - $1) <= tolerance }
    }
}
