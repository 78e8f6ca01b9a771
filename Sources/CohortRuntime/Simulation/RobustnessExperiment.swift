public import CohortData
public import CohortModel
public import CohortStrategy

/// Pooled test accuracy of several strategies, each without and under several attacks, on one federation: the
/// experiment behind the table in `docs/robust-aggregation.md` (`cohort bench robust`) and its tests.
public struct RobustnessExperiment: Sendable {
    /// One strategy under one attack (or none).
    public struct Cell: Sendable, Hashable {
        public var strategy: StrategySpec
        /// Nil: the clean run.
        public var attack: AttackSpec?
        /// Pooled test accuracy of the final model over every site's test data.
        public var accuracy: Double
        public var balancedAccuracy: Double
        public var auc: Double?
        /// Attacking sites.
        public var attackers: [String]
        /// Attacker updates the rule set aside, over all rounds, and all attacker updates accepted.
        public var attackerUpdatesExcluded: Int
        public var attackerUpdates: Int
        /// Honest updates the rule set aside, over all rounds.
        public var honestUpdatesExcluded: Int
    }

    /// Model, training, rounds and seed; strategy and attack are set per run.
    public var base: SimulationConfig
    public var strategies: [StrategySpec]
    /// Nil stands for the clean run.
    public var attacks: [AttackSpec?]

    public init(base: SimulationConfig, strategies: [StrategySpec], attacks: [AttackSpec?]) {
        self.base = base
        self.strategies = strategies
        self.attacks = attacks
    }

    /// The standard setting: logistic regression, 10 rounds of 20 local SGD steps (batch 32, learning rate 0.1),
    /// FedAvg and every robust rule assuming `f = attackers` Byzantine sites, clean and under each attack by
    /// `attackers` sites.
    public static func standard(attackers: Int = 4, rounds: Int = 10, seed: UInt64 = 42) -> RobustnessExperiment {
        let training = TrainingConfig(budget: .steps(20), batchSize: 32, optimizer: .sgd(learningRate: 0.1))
        let base = SimulationConfig(
            model: .logistic, settings: RunSettings(rounds: rounds, training: training, seed: seed, evaluateEvery: 0),
            baselines: false)
        let f = attackers
        let strategies: [StrategySpec] = [
            .fedAvg(), .median, .trimmedMean(beta: 0.2), .krum(byzantine: f), .multiKrum(byzantine: f),
            .bulyan(byzantine: f), .normBound(multiple: 3, mode: .clip), .normBound(multiple: 3, mode: .drop),
        ]
        // Sign flipping twice: ×4 (the default) and ×12, which outweighs the honest sites under FedAvg's example
        // weighting when the attackers hold about 9% of the examples (as the seed-42 draw does).
        let attacks: [AttackSpec?] = [
            nil, AttackSpec(kind: .signFlip, attackers: attackers), AttackSpec(kind: .signFlip, attackers: attackers, magnitude: 12),
            AttackSpec(kind: .scale, attackers: attackers), AttackSpec(kind: .noise, attackers: attackers),
            AttackSpec(kind: .labelFlip, attackers: attackers),
        ]
        return RobustnessExperiment(base: base, strategies: strategies, attacks: attacks)
    }

    /// Runs every strategy under every attack, strategy by strategy.
    public func run(on federation: Federation, each: @Sendable (Cell) -> Void = { _ in }) async throws -> [Cell] {
        var cells = [Cell]()
        for strategy in self.strategies {
            for attack in self.attacks {
                var config = self.base
                config.strategy = strategy
                config.attack = attack
                config.baselines = false
                let result = try await Simulation.run(federation: federation, config: config)
                let attackers = Set(result.attackers)
                var attackerExcluded = 0, honestExcluded = 0, attackerUpdates = 0
                for record in result.rounds {
                    attackerUpdates += record.aggregated.filter(attackers.contains).count
                    for failure in record.failures where failure.code == SiteFailure.Code.excluded.rawValue {
                        if attackers.contains(failure.site) { attackerExcluded += 1 } else { honestExcluded += 1 }
                    }
                }
                let cell = Cell(
                    strategy: strategy, attack: attack, accuracy: result.final.global.accuracy,
                    balancedAccuracy: result.final.global.balancedAccuracy, auc: result.final.global.auc,
                    attackers: result.attackers, attackerUpdatesExcluded: attackerExcluded,
                    attackerUpdates: attackerUpdates + attackerExcluded, honestUpdatesExcluded: honestExcluded)
                each(cell)
                cells.append(cell)
            }
        }
        return cells
    }

    /// What a table shows.
    public enum Metric: Sendable {
        /// Pooled test accuracy, %.
        case accuracy
        /// Pooled test AUC, ×100.
        case auc
    }

    /// A Markdown table: one row per strategy, one column per attack.
    public static func markdownTable(_ cells: [Cell], metric: Metric = .accuracy) -> String {
        var strategies = [StrategySpec](), attacks = [AttackSpec?]()
        for c in cells {
            if !strategies.contains(c.strategy) { strategies.append(c.strategy) }
            if !attacks.contains(c.attack) { attacks.append(c.attack) }
        }
        let header = ["strategy"] + attacks.map { a -> String in
            guard let a else { return "clean" }
            let m = a.effectiveMagnitude
            let size = m == m.rounded() ? "\(Int(m))" : "\(m)"
            switch a.kind {
            case .signFlip: return "sign flip ×−\(size)"
            case .scale: return "scale ×\(size)"
            case .noise: return "noise σ \(size)"
            case .labelFlip: return "label flip"
            }
        }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        for s in strategies {
            let row = attacks.map { a -> String in
                guard let c = cells.first(where: { $0.strategy == s && $0.attack == a }) else { return "" }
                switch metric {
                case .accuracy: return Self.percent(c.accuracy)
                case .auc: return c.auc.map(Self.percent) ?? "-"
                }
            }
            lines.append("| \(s) | " + row.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ x: Double) -> String {
        let tenths = Int((x * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
