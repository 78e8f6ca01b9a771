import ArgumentParser
import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import Foundation

/// `cohort bench robust`: pooled test accuracy of FedAvg and the robust rules, clean and under each simulated attack.
struct RobustBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robust",
        abstract: "Accuracy of FedAvg and each robust aggregation rule, clean and under attack (docs/robust-aggregation.md).",
        discussion: """
            Simulates the built-in hospital network with logistic regression. Each attack is run by --attackers \
            sites chosen by the seed; the rules that take f assume f = --attackers. Prints a Markdown table of \
            pooled test accuracy (%) and AUC over every site's test data.
            """)

    @Option(help: "Synthetic hospitals.") var hospitals: Int = 20
    @Option(help: "Attacking sites (and f for krum, multi-krum, bulyan).") var attackers: Int = 4
    @Option(help: "Federated rounds.") var rounds: Int = 10
    @Option(help: "Random seed.") var seed: UInt64 = 42

    @Flag(help: "Instead, time one aggregation by each rule of --cost-sites updates of --cost-parameters values.")
    var cost = false
    @Option(name: .customLong("cost-sites")) var costSites: Int = 50
    @Option(name: .customLong("cost-parameters")) var costParameters: Int = 1_000_000

    func run() async throws {
        if self.cost {
            print(try Self.measureCost(sites: self.costSites, parameters: self.costParameters))
            return
        }
        guard self.attackers >= 1, 3 * self.attackers < self.hospitals else {
            throw ValidationError("--attackers must be at least 1 and fewer than a third of --hospitals")
        }
        let federation = try FederationLoader.synthetic(seed: self.seed, hospitals: self.hospitals)
        let experiment = RobustnessExperiment.standard(attackers: self.attackers, rounds: self.rounds, seed: self.seed)
        let clock = ContinuousClock()
        let t0 = clock.now
        let cells = try await experiment.run(on: federation) { c in
            let excluded = c.attack == nil ? "" : ", attacker updates set aside \(c.attackerUpdatesExcluded)/\(c.attackerUpdates)"
            let line = "\(c.strategy) / \(c.attack.map { "\($0)" } ?? "clean"): accuracy \(f1(c.accuracy * 100))%"
                + "\(excluded), honest set aside \(c.honestUpdatesExcluded)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        print("Pooled test accuracy (%):\n")
        print(RobustnessExperiment.markdownTable(cells, metric: .accuracy))
        print("\nPooled test AUC (×100):\n")
        print(RobustnessExperiment.markdownTable(cells, metric: .auc))
        let attackers = cells.first { $0.attack != nil }?.attackers.joined(separator: ", ") ?? "-"
        print("\n(\(self.hospitals) hospitals, \(self.attackers) attackers: \(attackers); logistic regression, \(self.rounds) rounds"
              + " of 20 SGD steps; \(f1((clock.now - t0).seconds)) s)")
    }

    /// Seconds for one round's aggregation by FedAvg (streaming) and each robust rule, from accepted updates.
    static func measureCost(sites n: Int, parameters d: Int) throws -> String {
        guard n >= 11, d > 0 else { throw ValidationError("--cost-sites must be at least 11 (Bulyan with f = 2)") }
        var rng = RandomSource(seed: 1)
        let names = (0..<n).map { String(format: "site-%03d", $0) }
        let updates = names.map { name in
            SiteUpdate(site: name, round: 1, delta: (0..<d).map { _ in rng.uniformFloat() - 0.5 }, exampleCount: 100,
                       training: TrainingSummary(steps: 1, examplesSeen: 100, meanLoss: 0))
        }
        let global = ModelParameters(zeros: ParameterLayout([("w", [d])]))
        let plan = RoundPlan(round: 1, participants: names, instructions: TrainInstructions(round: 1, training: TrainingConfig(), seed: 1))
        var lines = ["| rule | seconds | updates held |", "|---|---|---|"]
        let clock = ContinuousClock()
        let fedAvgSeconds = try Stopwatch.best(repeats: 3) {
            var a = FedAvg().makeAggregator(for: plan, global: global)
            for u in updates { try a.accept(u) }
            var state = 0
            _ = FedAvg().finishRound(global: global, aggregator: a, state: &state)
        }
        lines.append("| FedAvg (streaming accept + mean) | \(String(format: "%.3f", fedAvgSeconds)) | 0 |")
        var buffered = BufferedAggregator(parameterCount: d, expectedSites: Set(names))
        for u in updates { try buffered.accept(u) }
        let f = max(1, (n - 3) / 4)
        func time<S: Strategy>(_ s: S, _ label: String) where S.Aggregator == BufferedAggregator {
            let t0 = clock.now
            var state = s.initialState(for: global)
            _ = s.completeRound(global: global, aggregator: buffered, state: &state)
            lines.append("| \(label) | \(String(format: "%.3f", (clock.now - t0).seconds)) | \(n) |")
        }
        time(CoordinateMedian(), "median")
        time(TrimmedMean(trimFraction: 0.1), "trimmed mean (β 0.1)")
        time(Krum(byzantine: f), "Krum (f \(f))")
        time(Krum(byzantine: f, selected: nil), "Multi-Krum (f \(f), m n - f)")
        time(Bulyan(byzantine: f), "Bulyan (f \(f))")
        time(NormBound(multiple: 3, mode: .clip), "norm bound (clip)")
        return lines.joined(separator: "\n") + "\n(\(n) updates of \(d) parameters; robust rules time completeRound on already accepted updates)"
    }
}
