import CohortAnalytics
public import CohortData
public import CohortModel
import CohortPrivacy
public import CohortStrategy
public import CohortTensor
import Foundation

/// Settings of a simulated federation.
public struct SimulationConfig: Sendable {
    public var model: ModelSpec.Kind
    public var hidden: [Int]
    public var activation: ModelSpec.Activation
    public var strategy: StrategySpec
    public var settings: RunSettings
    /// Probability that a selected site drops out of a round.
    public var dropoutRate: Double
    public var standardize: StandardizeMode
    /// Also train the local-only and centralized baselines (and, with differential privacy, the same federation
    /// without it, to show what privacy costs).
    public var baselines: Bool
    /// Every site's privacy budget (its ledger's `max_epsilon`, nothing spent yet): a site the job would take past
    /// it refuses the job, as a networked site would.
    public var siteMaxEpsilon: Double?
    /// Sites that attack the federation (robustness experiments); nil: none.
    public var attack: AttackSpec?
    /// Distributed DP: how many sites' noise shares make up the full noise (nil: the sites expected per round, or
    /// the minimum when sites drop out). A job run sets the job's minimum, as the coordinator does.
    public var noiseSites: Int?
    /// Two-tier aggregation: the sites are divided among this many regions, each aggregating its sites exactly and
    /// passing its partial sum up (nil: one tier). FedAvg gives the same model either way, bit for bit.
    public var regions: Int?

    public init(model: ModelSpec.Kind = .logistic, hidden: [Int] = [], activation: ModelSpec.Activation = .relu,
                strategy: StrategySpec = .fedAvg(), settings: RunSettings, dropoutRate: Double = 0,
                standardize: StandardizeMode = .perSite, baselines: Bool = true, siteMaxEpsilon: Double? = nil,
                attack: AttackSpec? = nil) {
        self.siteMaxEpsilon = siteMaxEpsilon
        self.model = model
        self.hidden = hidden
        self.activation = activation
        self.strategy = strategy
        self.settings = settings
        self.dropoutRate = dropoutRate
        self.standardize = standardize
        self.baselines = baselines
        self.attack = attack
    }
}

/// Progress of a simulation, for display.
public enum SimulationEvent: Sendable {
    case phase(String)
    case round(RoundRecord, of: Int)
}

/// Facts about one simulated site, for reports.
public struct SiteDescription: Sendable, Hashable, Codable {
    public var name: String
    public var trainCount: Int
    public var testCount: Int
    /// Fraction of training examples in the positive class (binary) or the most frequent class.
    public var positiveRate: Double
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case name, note
        case trainCount = "train_examples"
        case testCount = "test_examples"
        case positiveRate = "positive_rate"
    }
}

/// Everything a simulation produced.
public struct SimulationResult: Sendable {
    public var spec: ModelSpec
    public var config: SimulationConfig
    public var sites: [SiteDescription]
    public var rounds: [RoundRecord]
    /// Federated model evaluated on every site's test data after the last round.
    public var final: EvaluationAggregate
    public var model: ModelParameters
    /// Each site's own model on its own test data.
    public var local: [SiteEvaluation]?
    /// The pooled-data model, evaluated at every site.
    public var centralized: EvaluationAggregate?
    /// With differential privacy: the same federation trained without it.
    public var nonPrivate: EvaluationAggregate?
    /// Sites that refused the job, with the reason (privacy budget).
    public var refused: [String: String]
    public var centralizedModel: ModelParameters?
    /// The encoder shared by all sites (nil with per-site standardisation).
    public var sharedEncoder: FeatureEncoder?
    /// Each site's encoder.
    public var encoders: [String: FeatureEncoder]
    /// Wall-clock seconds: federated training, baselines.
    public var federatedSeconds: Double
    public var baselineSeconds: Double
    /// The attacking sites (empty without an attack).
    public var attackers: [String] = []
    /// Global versus personalised models at each site (nil without personalisation).
    public var personalization: PersonalizationResult?
}

/// A federation simulated in one process: the same controller, strategy and site executor as a deployment, with
/// in-process sites instead of the network.
public enum Simulation {
    /// Encodes the federation, trains federated, trains the baselines, and evaluates everything.
    public static func run(
        federation: Federation, config: SimulationConfig, progress: @escaping @Sendable (SimulationEvent) -> Void = { _ in }
    ) async throws -> SimulationResult {
        var globalStatistics: TableStatistics?
        if config.standardize == .global {
            progress(.phase("global standardisation: means and standard deviations from federated statistics"))
            globalStatistics = try await Self.globalStatistics(federation)
        }
        var (encodedSites, shared) = federation.encoded(standardize: config.standardize, globalStatistics: globalStatistics)
        let refused = try Self.budgetRefusals(config: config, sites: encodedSites.map { ($0.name, $0.train.count) })
        for (site, reason) in refused.sorted(by: { $0.key < $1.key }) { progress(.phase("\(site) refuses the job: \(reason)")) }
        encodedSites.removeAll { refused[$0.name] != nil }
        guard let first = encodedSites.first else {
            throw DataError(.federation, refused.isEmpty ? "the federation has no sites" : "every site refused the job: its privacy budget is too small")
        }
        guard encodedSites.count >= config.settings.minimumSites else {
            throw DataError(.federation, "only \(encodedSites.count) sites accepted the job; it needs \(config.settings.minimumSites) (\(refused.count) refused: privacy budget)")
        }
        let spec = ModelSpec(kind: config.model, inputCount: first.train.featureCount,
                             classCount: first.train.classCount, hidden: config.hidden, activation: config.activation)
        let network = try DenseNetwork(spec)
        var initRng = Self.initialModelRandomness(seed: config.settings.seed)
        let initial = network.initialParameters(rng: &initRng)
        let executors = encodedSites.map { SiteExecutor(name: $0.name, network: network, train: $0.train, test: $0.test) }
        let siteInfos = encodedSites.map { SiteInfo(name: $0.name, trainCount: $0.train.count) }
        let attackers = config.attack?.chooseAttackers(among: siteInfos.map(\.name), seed: config.settings.seed) ?? []
        // Label flippers train honestly on corrupted labels; baselines and evaluation keep every site's clean data.
        let trainers = executors.map { e in
            guard config.attack?.kind == .labelFlip, attackers.contains(e.name) else { return e }
            return SiteExecutor(name: e.name, network: e.network, train: AttackSpec.flippingLabels(e.trainingData), test: e.testData)
        }
        try config.settings.personalization?.validate(layerCount: network.layerCount, strategy: config.strategy)
        let personalization = config.settings.personalization.flatMap { $0.isActive ? $0 : nil }
        let personal = personalization?.personalTensors(in: network.layout) ?? []
        if !personal.isEmpty, let regions = config.regions, regions > 1 {
            throw PersonalizationError(field: .localLayers, message: "does not combine with two-tier aggregation (regions) yet; drop one of them")
        }
        // Every federated run gets fresh sites: what a site keeps between rounds belongs to one run.
        func freshSites(personal: [String]) -> InProcessSites {
            var sites = InProcessSites(executors: trainers, dropoutRate: config.dropoutRate, seed: config.settings.seed)
            sites.personalTensors = personal
            return sites
        }
        func federate(_ config: SimulationConfig, on connector: InProcessSites, progress: @escaping @Sendable (SimulationEvent) -> Void = { _ in })
            async throws -> (records: [RoundRecord], final: RunCheckpoint<AnyServerState>)
        {
            guard let attack = config.attack, attack.kind != .labelFlip else {
                return try await self.federate(config: config, initial: initial, sites: siteInfos, connector: connector, progress: progress)
            }
            let attacking = AttackingSites(base: connector, attack: attack, attackers: Set(attackers), seed: config.settings.seed)
            return try await self.federate(config: config, initial: initial, sites: siteInfos, connector: attacking, progress: progress)
        }
        let connector = freshSites(personal: personal)

        let dp = config.settings.privacy.map { ", \($0.modeName) DP z = \($0.configuration.noiseMultiplier)" } ?? ""
        let attackNote = config.attack.map { ", attack: \($0) (\(attackers.joined(separator: ", ")))" } ?? ""
        let personalNote = personal.isEmpty ? "" : ", personal layers: \(personal.joined(separator: ", "))"
        progress(.phase("federated training (\(config.strategy)\(dp), \(encodedSites.count) sites, \(config.settings.rounds) rounds\(attackNote)\(personalNote))"))
        let clock = ContinuousClock()
        let t0 = clock.now
        let (records, final): ([RoundRecord], RunCheckpoint<AnyServerState>)
        if let regions = config.regions, regions > 1 {
            let tiers = RegionalSites(regions: RegionalSites.assign(trainers, regions: regions), seed: config.settings.seed)
            progress(.phase("two tiers: \(tiers.regions.count) regional aggregators pass exact partial sums up"))
            (records, final) = try await self.federate(config: config, initial: initial, sites: tiers.siteInfos, connector: tiers, progress: progress)
        } else {
            (records, final) = try await federate(config, on: connector, progress: progress)
        }
        let federatedSeconds = (clock.now - t0).seconds
        let finalEval = await connector.evaluate(round: final.round, sites: siteInfos.map(\.name), global: final.global)
        guard let finalAggregate = EvaluationAggregate(finalEval.results) else {
            throw DataError(.federation, "no site could evaluate the final model")
        }

        var local: [SiteEvaluation]?
        var central: (model: ModelParameters, evaluations: [SiteEvaluation])?
        var nonPrivate: EvaluationAggregate?
        let t1 = clock.now
        if config.baselines, config.settings.privacy != nil {
            progress(.phase("baseline: the same federation without differential privacy"))
            var plain = config
            plain.settings.privacy = nil
            let plainSites = freshSites(personal: personal)
            let (_, plainFinal) = try await self.federate(config: plain, initial: initial, sites: siteInfos, connector: plainSites)
            nonPrivate = EvaluationAggregate(await plainSites.evaluate(round: plainFinal.round, sites: siteInfos.map(\.name), global: plainFinal.global).results)
        }
        var personalized: PersonalizationResult?
        if let p = personalization {
            var global = finalAggregate
            if !personal.isEmpty {
                // The global model to compare with: the same federation sharing every layer.
                progress(.phase("personalisation: the same federation without personal layers (the global model)"))
                var shared = config
                shared.settings.personalization = nil
                let sharedSites = freshSites(personal: [])
                let (_, sharedFinal) = try await federate(shared, on: sharedSites)
                let evaluations = await sharedSites.evaluate(round: sharedFinal.round, sites: siteInfos.map(\.name), global: sharedFinal.global)
                guard let g = EvaluationAggregate(evaluations.results) else {
                    throw DataError(.federation, "no site could evaluate the global model without personal layers")
                }
                global = g
            }
            if p.fineTuneEpochs > 0 {
                progress(.phase("personalisation: each site fine-tunes its model for \(p.fineTuneEpochs) epoch\(p.fineTuneEpochs == 1 ? "" : "s")"))
            }
            let (heads, tuned) = await connector.personalize(
                sites: siteInfos.map(\.name), global: final.global, fineTuneEpochs: p.fineTuneEpochs,
                training: config.settings.training, seed: config.settings.seed)
            personalized = PersonalizationResult(
                settings: p, personalTensors: personal, global: global, personalHead: heads.flatMap(EvaluationAggregate.init),
                fineTuned: tuned.flatMap(EvaluationAggregate.init))
        }
        if config.baselines {
            let budget = config.settings.training.budget.repeated(config.settings.rounds)
            var baselineConfig = config.settings.training
            baselineConfig.budget = budget
            progress(.phase("baseline: each site alone (\(budget) each)"))
            local = await Baselines.localOnly(executors: executors, initial: initial, config: baselineConfig, seed: config.settings.seed)
            progress(.phase("baseline: centralized on pooled data (\(budget))"))
            central = await Baselines.centralized(executors: executors, initial: initial, config: baselineConfig, seed: config.settings.seed)
        }
        let baselineSeconds = (clock.now - t1).seconds

        let raws = Dictionary(uniqueKeysWithValues: federation.sites.map { ($0.name, $0) })
        let sites = encodedSites.map { enc in
            let raw = raws[enc.name]
            let counts = enc.train.classCounts
            let rate = enc.train.classCount == 2
                ? Double(counts[1]) / Double(max(1, enc.train.count))
                : Double(counts.max() ?? 0) / Double(max(1, enc.train.count))
            return SiteDescription(name: enc.name, trainCount: enc.train.count, testCount: enc.test.count,
                                   positiveRate: rate, note: raw?.note)
        }
        return SimulationResult(
            spec: spec, config: config, sites: sites, rounds: records, final: finalAggregate, model: final.global,
            local: local, centralized: central.flatMap { EvaluationAggregate($0.evaluations) },
            nonPrivate: nonPrivate, refused: refused, centralizedModel: central?.model, sharedEncoder: shared,
            encoders: Dictionary(uniqueKeysWithValues: encodedSites.map { ($0.name, $0.encoder) }),
            federatedSeconds: federatedSeconds, baselineSeconds: baselineSeconds, attackers: attackers, personalization: personalized)
    }

    /// The sites whose privacy budget the job would exceed, with the reason (the ledger's words).
    static func budgetRefusals(config: SimulationConfig, sites: [(name: String, examples: Int)]) throws -> [String: String] {
        guard let maxEpsilon = config.siteMaxEpsilon else { return [:] }
        guard let privacy = config.settings.privacy else {
            throw DataError(.federation, "the sites have a privacy budget (max epsilon \(maxEpsilon)) and the job has no differential privacy; add --dp")
        }
        var refused = [String: String]()
        let settings = config.settings.applying(config.strategy)
        for site in sites {
            let spend = try privacy.spend(rounds: settings.rounds, fraction: settings.fraction, training: settings.siteTraining, examples: site.examples)
            if let r = PrivacyLedger().check(adding: spend.ledgerEntry(jobID: "simulation"), maxEpsilon: maxEpsilon) {
                refused[site.name] = r.message
            }
        }
        return refused
    }

    /// The federation's feature statistics for `--standardize global`, computed as a deployment does: a federated
    /// statistics query every site answers under the standard disclosure control, merged exactly.
    ///
    /// - Throws: `AnalyticsError` if a site's answer cannot be used.
    public static func globalStatistics(_ federation: Federation) async throws -> TableStatistics {
        let result = try await FederatedStandardization.compute(federation: federation)
        if let refused = result.query.refusals.first {
            throw DataError(.federation, "site \(refused.site) refused the statistics for global standardisation: \(refused.refusal)")
        }
        return result.statistics
    }

    /// The randomness of a job's initial model: the seed only.
    public static func initialModelRandomness(seed: UInt64) -> RandomSource {
        RandomSource(seed: seed).derived("initial-model")
    }

    /// Runs federated training with the strategy a spec names (wrapped in central or distributed DP when the
    /// settings ask for it; simulated DP noise is seeded, so runs are reproducible).
    ///
    /// - Throws: ``StrategySpecError`` if the strategy's parameters cannot work with these sites (e.g. Bulyan with
    ///   fewer than `4f + 3` sites).
    public static func federate<C: SiteConnector>(
        config: SimulationConfig, initial: ModelParameters, sites: [SiteInfo], connector: C,
        progress: @escaping @Sendable (SimulationEvent) -> Void = { _ in }
    ) async throws -> (records: [RoundRecord], final: RunCheckpoint<AnyServerState>) {
        try config.strategy.validate(siteCount: sites.count)
        let expected = min(sites.count, max(config.settings.minimumSites, Int((config.settings.fraction * Double(sites.count)).rounded(.up))))
        return try await StrategyOpener.open(
            config.strategy, privacy: config.settings.privacy,
            noiseSites: config.noiseSites ?? (config.dropoutRate > 0 ? max(1, config.settings.minimumSites) : expected),
            noise: .seeded(config.settings.seed),
            visitor: Runner(config: config, initial: initial, sites: sites, connector: connector, progress: progress))
    }

    struct Runner<C: SiteConnector>: StrategyVisitor {
        let config: SimulationConfig
        let initial: ModelParameters
        let sites: [SiteInfo]
        let connector: C
        let progress: @Sendable (SimulationEvent) -> Void

        func visit<S: Strategy>(_ strategy: S) async throws -> (records: [RoundRecord], final: RunCheckpoint<AnyServerState>) {
            let controller = FederatedController(strategy: strategy, settings: self.config.settings.applying(self.config.strategy))
            let total = self.config.settings.rounds
            let progress = self.progress
            let (records, final) = try await controller.run(from: controller.start(from: self.initial), sites: self.sites, connector: self.connector) { record, _ in
                progress(.round(record, of: total))
            }
            return (records, RunCheckpoint(round: final.round, global: final.global, state: AnyServerState(final.state)))
        }
    }
}

/// A strategy's server state with its type erased, for callers that only need the model.
public struct AnyServerState: Sendable, Hashable, Codable {
    /// The state encoded as JSON.
    public var json: [UInt8]

    public init<T: Encodable>(_ state: T) {
        self.json = (try? JSONEncoder().encode(state)).map { [UInt8]($0) } ?? []
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let c = self.components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
