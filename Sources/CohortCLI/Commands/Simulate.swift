import ArgumentParser
import CohortCompression
import CohortData
import CohortModel
import CohortReport
import CohortRuntime
import CohortStrategy
import CohortTensor
import Foundation

/// `cohort simulate`: the main job.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a federation in one process and compare federated, local-only and centralized training.",
        discussion: """
            With no arguments, simulates the built-in network of 47 synthetic hospitals predicting 30-day \
            readmission. With --data DIR, uses a federation directory: DIR/<site>_train.csv (optional \
            <site>_test.csv) or DIR/<site>/train.csv (optional test.csv). Outputs go to --out: metrics.json, \
            metrics.csv, model.safetensors with model.card.json, and report.html.
            """
    )

    @Option(help: "Federation directory (default: the built-in synthetic hospital network).")
    var data: String?

    @Option(help: "Schema YAML (default: DIR/schema.yaml, else inferred and reported).")
    var schema: String?

    @Option(help: "Label column (default: the schema's label, else 'label').")
    var label: String?

    @Option(help: "Number of synthetic hospitals (built-in data), or of sites to re-partition into (with --partition).")
    var sites: Int?

    @Option(help: "Re-partition the pooled data: iid, dirichlet:ALPHA or quantity:ALPHA (needs --sites).")
    var partition: String?

    @Option(help: "Federated rounds.")
    var rounds: Int = 20

    @Option(help: "Model: logistic, softmax or mlp.")
    var model: String = "mlp"

    @Option(help: "Hidden layer widths of the MLP, e.g. 64,32.")
    var hidden: String = "64,32"

    @Option(help: "Strategy: \(StrategySpec.names.joined(separator: ", ")).")
    var strategy: String = "fedavg"

    @Option(name: .customLong("server-lr"), help: "Server learning rate (FedAvg, FedAvgM, SCAFFOLD, FedAdam/FedYogi/FedAdagrad).")
    var serverLearningRate: Float?

    @Option(help: "Server momentum (FedAvgM).")
    var momentum: Float?

    @Option(name: .customLong("server-beta1"), help: "First-moment decay of FedAdam, FedYogi and FedAdagrad (default 0.9).")
    var serverBeta1: Float?

    @Option(name: .customLong("server-beta2"), help: "Second-moment decay of FedAdam/FedYogi (default 0.99).")
    var serverBeta2: Float?

    @Option(help: "Adaptivity tau of FedAdam/FedYogi/FedAdagrad (default 1e-9).")
    var tau: Float?

    @OptionGroup(title: "Differential privacy")
    var privacy: PrivacyFlags

    @Option(help: "Robust aggregation: \(StrategySpec.robustNames.joined(separator: ", ")) (instead of --strategy).")
    var robust: String?

    @Option(help: "Byzantine sites f assumed by krum, multi-krum and bulyan (default: --attackers, else 1).")
    var byzantine: Int?

    @Option(help: "Updates Multi-Krum averages (default n - f).")
    var selected: Int?

    @Option(name: .customLong("trim-fraction"), help: "Trimmed mean: fraction β trimmed at each end (default 0.1).")
    var trimFraction: Double?

    @Option(name: .customLong("norm-multiple"), help: "Norm bounding: bound as a multiple of the round's median update norm (default 3).")
    var normMultiple: Double?

    @Option(name: .customLong("norm-mode"), help: "Norm bounding: clip or drop updates above the bound (default clip).")
    var normMode: String?

    @Option(help: "Simulated attack (experiments): \(AttackSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var attack: String?

    @Option(help: "Number of attacking sites, chosen by the seed (with --attack).")
    var attackers: Int?

    @Option(name: .customLong("attack-magnitude"), help: "Attack strength: sign-flip factor (4), scale factor (100), noise standard deviation (10).")
    var attackMagnitude: Double?

    @Option(help: "Two-tier aggregation: divide the sites among N regional aggregators that pass exact partial sums up (FedAvg, FedAvgM, FedProx, FedOpt; gives the flat model bit for bit).")
    var regions: Int?

    @Option(name: .customLong("local-epochs"), help: "Local epochs per round (default 1 unless --local-steps).")
    var localEpochs: Int?

    @Option(name: .customLong("local-steps"), help: "Local mini-batch steps per round (instead of epochs).")
    var localSteps: Int?

    @Option(name: .customLong("batch-size"), help: "Mini-batch size.")
    var batchSize: Int = 32

    @Option(help: "Learning rate.")
    var lr: Float = 0.1

    @Option(help: "Local optimizer: sgd or adam.")
    var optimizer: String = "sgd"

    @Option(name: .customLong("local-momentum"), help: "SGD momentum for local training.")
    var localMomentum: Float = 0

    @Option(help: "L2 penalty on weights.")
    var l2: Float = 0

    @Option(help: "FedProx proximal coefficient mu (with --strategy fedprox; default 0.01).")
    var mu: Float?

    @Option(name: .customLong("personal-layers"), help: "Personal layers (FedPer): the last N dense layers stay at each site, only the rest is aggregated (docs/personalization.md).")
    var personalLayers: Int = 0

    @Option(name: .customLong("fine-tune-epochs"), help: "After the last round each site fine-tunes its model (all layers) for E epochs on its own data; the report compares global and personalised models.")
    var fineTuneEpochs: Int = 0

    @Option(help: "Fraction of sites selected per round.")
    var fraction: Double = 1

    @Option(help: "Update compression, e.g. q8, q4, topk:0.01+q8, topk:0.01+q8+deflate (docs/compression.md). Default: dense Float32.")
    var compression: String?

    @Option(help: "How a round's sites are chosen: \(SelectionPolicy.names.joined(separator: ", ")).")
    var selection: String = "uniform"

    @Option(name: .customLong("min-sites"), help: "Minimum sites per round.")
    var minSites: Int = 1

    @Option(help: "Probability that a selected site drops out of a round.")
    var dropout: Double = 0

    @Option(help: "Standardisation: per-site, global or none.")
    var standardize: String = "per-site"

    @Option(name: .customLong("test-fraction"), help: "Test split for sites without a test file.")
    var testFraction: Double = 0.25

    @Option(name: .customLong("on-invalid-row"), help: "What to do with an invalid row: fail or reject (up to 5%).")
    var onInvalidRow: String = "fail"

    @Option(help: "Random seed; the same seed gives the same model, bit for bit.")
    var seed: UInt64 = 42

    @Option(name: .customLong("target-auc"), help: "Stop early once the pooled test AUC reaches this value.")
    var targetAUC: Double?

    @Flag(name: .customLong("no-baselines"), help: "Skip the local-only and centralized baselines.")
    var noBaselines = false

    @Option(help: "Output directory.")
    var out: String = "cohort-out"

    @Flag(help: "Print less.")
    var quiet = false

    mutating func run() async throws {
        do {
            try await self.execute()
        } catch let e as DataError {
            Console.error(e.description)
            throw ExitCode(2)
        } catch let e as ModelError {
            Console.error(e.description)
            throw ExitCode(2)
        } catch let e as ValidationError {
            throw e
        } catch let e as PrivacyOptionsParser.Problem {
            throw ValidationError(e.description)
        } catch let e as ExitCode {
            throw e
        } catch {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }

    func parsedSettings() throws -> (SimulationConfig, ValidationPolicy) {
        guard let kind = ModelSpec.Kind(rawValue: self.model) else {
            throw ValidationError("--model must be logistic, softmax or mlp, not '\(self.model)'")
        }
        let hidden = try self.hidden.split(separator: ",").map { part -> Int in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw ValidationError("--hidden takes positive widths separated by commas, e.g. 64,32")
            }
            return v
        }
        if let mu = self.mu, !(mu.isFinite && mu >= 0) { throw ValidationError("--mu must be a number >= 0") }
        if self.mu != nil && self.strategy != "fedprox" {
            throw ValidationError("--mu applies to --strategy fedprox (FedProx's proximal term)")
        }
        let (strategy, attack) = try self.parsedStrategyAndAttack()
        guard let standardize = StandardizeMode(rawValue: self.standardize) else {
            throw ValidationError("--standardize must be per-site, global or none")
        }
        guard self.rounds > 0 else { throw ValidationError("--rounds must be positive") }
        guard self.batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard self.lr > 0, self.lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard (0...1).contains(self.dropout) else { throw ValidationError("--dropout must be in [0, 1]") }
        guard self.fraction > 0 && self.fraction <= 1 else { throw ValidationError("--fraction must be in (0, 1]") }
        if self.localEpochs != nil && self.localSteps != nil {
            throw ValidationError("give --local-epochs or --local-steps, not both")
        }
        let budget: TrainingBudget = self.localSteps.map { .steps($0) } ?? .epochs(self.localEpochs ?? 1)
        let opt: OptimizerSpec
        switch self.optimizer {
        case "sgd": opt = .sgd(learningRate: self.lr, momentum: self.localMomentum)
        case "adam": opt = .adam(learningRate: self.lr)
        default: throw ValidationError("--optimizer must be sgd or adam")
        }
        let policy: ValidationPolicy
        switch self.onInvalidRow {
        case "fail": policy = .strict
        case "reject": policy = .rejectRows(maximumFraction: 0.05)
        default: throw ValidationError("--on-invalid-row must be fail or reject")
        }
        let training = TrainingConfig(budget: budget, batchSize: self.batchSize, optimizer: opt,
                                      loss: LossConfig(l2: self.l2))
        guard let selection = SelectionPolicy(rawValue: self.selection) else {
            throw ValidationError("--selection must be one of \(SelectionPolicy.names.joined(separator: ", "))")
        }
        let personalization = Personalization(localLayers: self.personalLayers, fineTuneEpochs: self.fineTuneEpochs)
        do throws(PersonalizationError) {
            try personalization.validate(layerCount: ModelSpec(kind: kind, inputCount: 1, classCount: 2, hidden: hidden).widths.count - 1,
                                         strategy: strategy)
        } catch {
            throw ValidationError("\(error.field.option): \(error.message)")
        }
        let settings = RunSettings(
            rounds: self.rounds, fraction: self.fraction, minimumSites: self.minSites, training: training, seed: self.seed,
            target: self.targetAUC.map { MetricTarget(metric: .auc, value: $0) }, selection: selection,
            compression: try self.compression.map { text in
                do { return try CodecSpec(parsing: text) } catch { throw ValidationError("--compression: \(error)") }
            }, personalization: personalization.isActive ? personalization : nil)
        var config = SimulationConfig(
            model: kind, hidden: kind == .mlp ? hidden : [], strategy: strategy, settings: settings,
            dropoutRate: self.dropout, standardize: standardize, baselines: !self.noBaselines,
            siteMaxEpsilon: self.privacy.maxEpsilon, attack: attack)
        config.regions = self.regions
        if let r = self.regions {
            guard r >= 1 else { throw ValidationError("--regions must be at least 1") }
            guard strategy.passesRegionalSums else {
                throw ValidationError("--regions works with fedavg, fedavgm, fedprox and the FedOpt strategies (regions pass example-weighted partial sums), not \(strategy.name)")
            }
            if self.privacy.dp != nil || self.compression != nil || attack != nil || self.dropout > 0 {
                throw ValidationError("--regions does not combine with --dp, --compression, --attack or --dropout here")
            }
            if r > 1 && self.personalLayers > 0 {
                throw ValidationError("--personal-layers does not combine with --regions yet (regional sites keep no personal layers); drop one of them")
            }
        }
        return (config, policy)
    }

    /// The strategy (`--strategy` or `--robust` with their parameters) and the simulated attack, if any.
    func parsedStrategyAndAttack() throws -> (StrategySpec, AttackSpec?) {
        var attack: AttackSpec?
        if let a = self.attack {
            guard let kind = AttackSpec.Kind(rawValue: a) else {
                throw ValidationError("--attack must be one of \(AttackSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")), not '\(a)'")
            }
            guard let n = self.attackers, n > 0 else { throw ValidationError("--attack needs --attackers N (N > 0)") }
            if let m = self.attackMagnitude, !(m.isFinite && m > 0) { throw ValidationError("--attack-magnitude must be positive") }
            attack = AttackSpec(kind: kind, attackers: n, magnitude: self.attackMagnitude)
        } else if self.attackers != nil || self.attackMagnitude != nil {
            throw ValidationError("--attackers and --attack-magnitude need --attack")
        }
        if let r = self.robust {
            guard StrategySpec.robustNames.contains(r) else {
                throw ValidationError("--robust must be one of \(StrategySpec.robustNames.joined(separator: ", ")), not '\(r)'")
            }
            if self.strategy != "fedavg" { throw ValidationError("give --strategy or --robust, not both") }
        }
        let name = self.robust ?? self.strategy
        var mode: NormBound.Mode?
        if let m = self.normMode {
            guard let parsed = NormBound.Mode(rawValue: m) else { throw ValidationError("--norm-mode must be clip or drop") }
            mode = parsed
        }
        guard let strategy = StrategySpec(
            name: name, serverLearningRate: self.serverLearningRate, momentum: self.momentum,
            mu: self.mu, beta1: self.serverBeta1, beta2: self.serverBeta2, tau: self.tau,
            byzantine: self.byzantine ?? attack?.attackers, selected: self.selected, trimFraction: self.trimFraction,
            normMultiple: self.normMultiple, normMode: mode)
        else {
            throw ValidationError("--strategy must be one of \(StrategySpec.names.joined(separator: ", ")), not '\(self.strategy)'")
        }
        do throws(StrategySpecError) { try strategy.validate() } catch {
            throw ValidationError("--\(error.key.replacingOccurrences(of: "_", with: "-")): \(error.message)")
        }
        return (strategy, attack)
    }

    func loadFederation(policy: ValidationPolicy) throws -> Federation {
        var federation: Federation
        if let data = self.data {
            federation = try FederationLoader.directory(
                URL(fileURLWithPath: data),
                options: .init(schemaURL: self.schema.map { URL(fileURLWithPath: $0) }, label: self.label,
                               testFraction: self.testFraction, seed: self.seed, policy: policy))
        } else {
            if self.schema != nil || self.label != nil {
                throw ValidationError("--schema and --label apply to --data; the built-in network has its own schema")
            }
            federation = try FederationLoader.synthetic(seed: self.seed, hospitals: self.partition == nil ? (self.sites ?? 47) : 47, policy: policy)
        }
        if let p = self.partition {
            guard let partitioner = Partitioner(parsing: p) else {
                throw ValidationError("--partition must be iid, dirichlet:ALPHA or quantity:ALPHA")
            }
            guard let n = self.sites, n > 0 else { throw ValidationError("--partition needs --sites N") }
            var rng = RandomSource(seed: self.seed).derived("partition")
            federation = federation.repartitioned(partitioner, sites: n, rng: &rng)
        } else if self.data != nil, let n = self.sites, n != federation.sites.count {
            throw ValidationError("--sites \(n) differs from the \(federation.sites.count) sites in --data; use --partition to re-divide")
        }
        return federation
    }

    func execute() async throws {
        var (config, policy) = try self.parsedSettings()
        let federation = try self.loadFederation(policy: policy)
        config.settings.privacy = try self.privacy.settings(
            rounds: self.rounds, fraction: self.fraction, training: config.settings.training,
            smallestSite: federation.sites.map(\.train.rowCount).min())
        do throws(StrategySpecError) { try config.strategy.validate(siteCount: federation.sites.count) } catch {
            throw ValidationError("--\(error.key.replacingOccurrences(of: "_", with: "-")): \(error.message)")
        }
        if let a = config.attack, a.attackers >= federation.sites.count {
            throw ValidationError("--attackers \(a.attackers) leaves no honest site among \(federation.sites.count)")
        }
        let say: (String) -> Void = { s in if !self.quiet { Console.line(s) } }
        say("Data: \(federation.source)")
        let rows = federation.sites.reduce(0) { $0 + $1.train.rowCount + $1.test.rowCount }
        say("  \(federation.sites.count) sites, \(rows) rows; schema: \(federation.schemaSource)")
        if !federation.schemaNotes.isEmpty {
            say("  inferred schema (write your own with --schema to change it):")
            for n in federation.schemaNotes { say("    \(n)") }
        }
        let issues = federation.sites.flatMap { [$0.trainReport] + ($0.testReport.map { [$0] } ?? []) }
            .filter { $0.rowsRejected > 0 || $0.rowsDropped > 0 }
        for r in issues { say("  note: \(r.summary)") }

        let result = try await Simulation.run(federation: federation, config: config) { event in
            guard !self.quiet else { return }
            switch event {
            case .phase(let p):
                Console.endProgress()
                Console.line("\u{2022} \(p)")
            case .round(let r, let total):
                let g = r.evaluation?.global
                let text = "round \(r.round)/\(total)  auc \(Console.f(g?.auc))  acc \(Console.f(g?.accuracy))  loss \(Console.f(g?.logLoss))  sites \(r.aggregated.count)/\(r.participants.count)"
                if Console.isTerminal {
                    Console.progress("\(Console.bar(Double(r.round) / Double(total))) \(text)")
                } else {
                    Console.line("  " + text)
                }
            }
        }
        Console.endProgress()
        if let p = result.rounds.last?.privacy, !self.quiet {
            Console.line(String(format: "Privacy: (epsilon %.3g, delta %.0e) at the %@ level after %d rounds.", p.epsilon, p.delta, p.unit, result.rounds.count))
        }
        let outDir = URL(fileURLWithPath: self.out)
        let written = try ReportWriter.write(
            result, federation: federation, to: outDir,
            command: (["cohort"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        if !self.quiet {
            Console.line("")
            Console.line(ComparisonTable.render(result))
            if let p = result.personalization {
                Console.line("")
                Console.line(ComparisonTable.personalization(p, sites: result.sites))
            }
            Console.line("")
            Console.line("Wrote \(written.map { self.out + "/" + $0 }.joined(separator: ", "))")
            Console.line(String(format: "Federated training took %.1f s, baselines %.1f s.", result.federatedSeconds, result.baselineSeconds))
        }
    }
}
