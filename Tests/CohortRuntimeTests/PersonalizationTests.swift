import CohortData
import CohortModel
import CohortPrivacy
import CohortReport
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Foundation
import Testing

@Suite("Personalisation: personal layers (FedPer), local fine-tuning, global vs personalised reports")
struct PersonalizationTests {
    static let network = try! DenseNetwork(ModelSpec(kind: .mlp, inputCount: 5, classCount: 2, hidden: [8, 4]))

    static func toySites() -> [SiteExecutor] {
        ToyFederation.executors(ToyFederation.sites(sizes: [60, 200, 40, 120], features: 5, seed: 7), network: Self.network)
    }

    static func initial(seed: UInt64) -> ModelParameters {
        var rng = Simulation.initialModelRandomness(seed: seed)
        return Self.network.initialParameters(rng: &rng)
    }

    static let training = TrainingConfig(budget: .epochs(2), batchSize: 8, optimizer: .sgd(learningRate: 0.1, momentum: 0.5))

    /// Keeps every update that reaches the aggregator.
    struct Recording<Base: SiteConnector>: SiteConnector {
        let base: Base
        let seen = Seen()

        final class Seen: @unchecked Sendable {
            private let lock = NSLock()
            private var all = [SiteUpdate]()
            func add(_ u: SiteUpdate) { self.lock.withLock { self.all.append(u) } }
            var updates: [SiteUpdate] { self.lock.withLock { self.all } }
        }

        struct Aggregator<Inner: UpdateAggregator>: UpdateAggregator {
            var inner: Inner
            let seen: Seen
            mutating func accept(_ update: SiteUpdate) throws(SiteFailure) {
                self.seen.add(update)
                try self.inner.accept(update)
            }
            var acceptedSites: [String] { self.inner.acceptedSites }
            var siteTraining: [String: SiteTrainingRecord] { self.inner.siteTraining }
        }

        func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
            var recording = Aggregator(inner: aggregator, seen: self.seen)
            let failures = await self.base.train(plan, global: global, aggregator: &recording)
            aggregator = recording.inner
            return failures
        }

        func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
            await self.base.evaluate(round: round, sites: sites, global: global)
        }
    }

    static func runPersonal(strategy: StrategySpec = .fedAvg(), privacy: PrivacySettings? = nil, rounds: Int = 5)
        async throws -> (updates: [SiteUpdate], initial: ModelParameters, final: ModelParameters, sites: InProcessSites)
    {
        let executors = Self.toySites()
        var sites = InProcessSites(executors: executors, seed: 3, concurrency: 2)
        let personal = Self.network.layout.trailingLayerTensors(1)
        sites.personalTensors = personal
        let recording = Recording(base: sites)
        let initial = Self.initial(seed: 3)
        var settings = RunSettings(rounds: rounds, training: Self.training, seed: 3, privacy: privacy,
                                   personalization: Personalization(localLayers: 1))
        settings.minimumSites = 2
        let config = SimulationConfig(model: .mlp, hidden: [8, 4], strategy: strategy, settings: settings)
        let (_, final) = try await Simulation.federate(
            config: config, initial: initial, sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: recording)
        return (recording.seen.updates, initial, final.global, sites)
    }

    @Test("a site's head never leaves it: the update's head slice is exactly zero and the global head stays the initial one")
    func headStaysAtSite() async throws {
        let layout = Self.network.layout
        #expect(layout.trailingLayerTensors(1) == ["layers.2.weight", "layers.2.bias"])
        let head = try #require(layout.ranges(of: layout.trailingLayerTensors(1)))
        let body = try #require(layout.ranges(of: ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]))

        for (strategy, privacy) in [(StrategySpec.fedAvg(), nil as PrivacySettings?),
                                    (.fedAvgM(serverLearningRate: 1, momentum: 0.9), nil),
                                    (.fedAvg(), PrivacySettings(configuration: .distributed(noiseMultiplier: 0.5, clip: 1))),
                                    (.fedAvg(), PrivacySettings(configuration: .central(noiseMultiplier: 0.5, clip: 1))),
                                    (.median, nil)] {
            let r = try await Self.runPersonal(strategy: strategy, privacy: privacy)
            #expect(r.updates.count == 4 * 5, "\(strategy)")
            for u in r.updates {
                let h = head.flatMap { u.delta[$0] }
                #expect(h.allSatisfy { $0.bitPattern == 0 }, "\(strategy): \(u.site) round \(u.round) sent head values")
                #expect(body.flatMap { u.delta[$0] }.contains { $0 != 0 }, "\(strategy): the body is shared")
            }
            #expect(r.final.values(in: head) == r.initial.values(in: head), "\(strategy): the global head changed")
            #expect(r.final.values(in: body) != r.initial.values(in: body), "\(strategy): the body did not train")
            // Every site kept its own head, and the heads differ.
            var kept = [[Float]]()
            for site in r.sites.executors.keys.sorted() {
                let h = try #require(await r.sites.state.value(site: site, key: InProcessSites.personalHeadKey))
                #expect(h.count == head.reduce(0) { $0 + $1.count })
                #expect(h != r.initial.values(in: head))
                kept.append(h)
            }
            #expect(Set(kept.map { $0.map(\.bitPattern) }).count == kept.count)
        }
    }

    @Test("a site trains from its own head of the previous round, and evaluates with it")
    func siteUsesItsHead() throws {
        let site = Self.toySites()[1]
        let global = Self.initial(seed: 4)
        let personal = Self.network.layout.trailingLayerTensors(1)
        let head = try #require(global.layout.ranges(of: personal))
        var instructions = TrainInstructions(round: 1, training: Self.training, seed: 4)
        instructions.personalTensors = personal
        let first = try site.train(global: global, instructions: instructions, siteControl: nil)
        let kept = try #require(first.personalHead)
        instructions.round = 2
        let fromOwn = try site.train(global: global, instructions: instructions, siteControl: nil, personalHead: kept)
        let fromGlobal = try site.train(global: global, instructions: instructions, siteControl: nil)
        #expect(fromOwn.update.delta != fromGlobal.update.delta)
        // The personalised model is the global body with the kept head.
        let model = try site.personalized(global, personalTensors: personal, head: kept)
        #expect(model.values(in: head) == kept)
        #expect(model.flat[0..<head[0].lowerBound] == global.flat[0..<head[0].lowerBound])
        // A head of the wrong size is refused.
        #expect(throws: SiteFailure.self) { _ = try site.train(global: global, instructions: instructions, siteControl: nil, personalHead: [1, 2]) }
        // SCAFFOLD's control variates cover the whole model: refused.
        instructions.serverControl = [Float](repeating: 0, count: global.count)
        #expect(throws: SiteFailure.self) { _ = try site.train(global: global, instructions: instructions, siteControl: nil) }
    }

    static func simulate(_ federation: Federation, personalization: Personalization?, rounds: Int = 3, hidden: [Int] = [16, 8])
        async throws -> SimulationResult
    {
        try await Simulation.run(federation: federation, config: SimulationConfig(
            model: .mlp, hidden: hidden, settings: RunSettings(
                rounds: rounds, training: TrainingConfig(batchSize: 32, optimizer: .sgd(learningRate: 0.1)), seed: 5,
                personalization: personalization),
            baselines: false))
    }

    @Test("with zero personal layers and no fine-tuning the run is plain FedAvg, bit for bit")
    func zeroIsFedAvg() async throws {
        let federation = try FederationLoader.synthetic(seed: 5, hospitals: 5)
        let plain = try await Self.simulate(federation, personalization: nil)
        let zero = try await Self.simulate(federation, personalization: Personalization(localLayers: 0, fineTuneEpochs: 0))
        #expect(zero.model.bytes == plain.model.bytes)
        #expect(zero.rounds.map(\.modelSHA256) == plain.rounds.map(\.modelSHA256))
        #expect(zero.final == plain.final)
        #expect(zero.personalization == nil)
        // Fine-tuning alone trains after the last round: the federated model is still FedAvg's.
        let tuned = try await Self.simulate(federation, personalization: Personalization(fineTuneEpochs: 1))
        #expect(tuned.model.bytes == plain.model.bytes)
        let p = try #require(tuned.personalization)
        #expect(p.global == plain.final && p.personalHead == nil && p.fineTuned != nil)
        #expect(p.fineTuned != p.global)
        // Personal layers change the run.
        let fedper = try await Self.simulate(federation, personalization: Personalization(localLayers: 1))
        #expect(fedper.model.bytes != plain.model.bytes)
    }

    @Test("on a label-skewed split (Dirichlet 0.1) personalised models beat the global one at the sites on average")
    func labelSkew() async throws {
        var federation = try FederationLoader.synthetic(seed: 5, hospitals: 8)
        var rng = RandomSource(seed: 5).derived("partition")
        federation = federation.repartitioned(.dirichlet(alpha: 0.1), sites: 8, rng: &rng)
        let r = try await Self.simulate(federation, personalization: Personalization(localLayers: 1, fineTuneEpochs: 1), rounds: 5)
        let p = try #require(r.personalization)
        let head = try #require(p.personalHead)
        let tuned = try #require(p.fineTuned)
        #expect(p.personalTensors == ["layers.2.weight", "layers.2.bias"])
        #expect(p.global.sites.count == 8 && head.sites.count == 8 && tuned.sites.count == 8)
        // The federated run's own evaluation is the personal heads'.
        #expect(head == r.final)
        #expect(head.siteMean.accuracy > p.global.siteMean.accuracy)
        #expect(tuned.siteMean.accuracy > p.global.siteMean.accuracy)
        #expect((p.meanAccuracyImprovement ?? 0) > 0)
        #expect(p.sitesImproved >= 4)
        let line = ComparisonTable.personalizationSummary(p)
        #expect(line.hasPrefix("Personalised (personal head + fine-tuned) vs global: +"))
    }

    @Test("reports: metrics.json, metrics.csv, report.html and the text table carry global vs personalised per site")
    func reports() async throws {
        let federation = try FederationLoader.synthetic(seed: 6, hospitals: 4)
        let r = try await Self.simulate(federation, personalization: Personalization(localLayers: 1, fineTuneEpochs: 1), rounds: 2)
        let p = try #require(r.personalization)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try ReportWriter.write(r, federation: federation, to: dir.url, command: "cohort simulate --personal-layers 1 --fine-tune-epochs 1")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("metrics.json"))) as! [String: Any]
        let section = try #require(json["personalization"] as? [String: Any])
        #expect(section["local_layers"] as? Int == 1 && section["fine_tune_epochs"] as? Int == 1)
        #expect(section["personal_tensors"] as? [String] == ["layers.2.weight", "layers.2.bias"])
        #expect(section["personalized"] as? String == "personal head + fine-tuned")
        for key in ["global", "personal_head", "fine_tuned"] {
            let pooled = try #require(section[key] as? [String: Any], "\(key)")
            #expect((pooled["sites"] as? [String: Any])?.count == 4, "\(key).sites")
        }
        let gain = try #require(section["mean_improvement"] as? [String: Any])
        #expect(abs((gain["accuracy"] as! Double) - p.meanAccuracyImprovement!) < 1e-12)

        let csv = try String(contentsOf: dir.path("metrics.csv"), encoding: .utf8).split(separator: "\n")
        for approach in ["global", "personal-head", "fine-tuned"] {
            #expect(csv.filter { $0.hasPrefix("\(approach),final,") }.count == 6, "\(approach)")  // ALL, MEAN, 4 sites
        }
        let html = try String(contentsOf: dir.path("report.html"), encoding: .utf8)
        #expect(html.contains("Personalisation: global vs personalised"))
        #expect(html.contains("<th>fine-tuned acc.</th>"))
        let text = ComparisonTable.personalization(p, sites: r.sites)
        #expect(text.split(separator: "\n").count == 11)  // title, 2 header rows, rule, 4 sites, rule, mean, summary
        for s in r.sites { #expect(text.contains(s.name)) }

        // Without personalisation nothing is added.
        let plain = try await Self.simulate(federation, personalization: nil, rounds: 1)
        try ReportWriter.write(plain, federation: federation, to: dir.url, command: "cohort simulate")
        let plainJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("metrics.json"))) as! [String: Any]
        #expect(plainJSON["personalization"] == nil)
    }

    @Test("personal layers are validated against the model and the strategy, naming the field")
    func validation() {
        func problem(_ p: Personalization, layers: Int = 3, strategy: StrategySpec = .fedAvg()) -> PersonalizationError.Field? {
            do throws(PersonalizationError) { try p.validate(layerCount: layers, strategy: strategy); return nil } catch { return error.field }
        }
        #expect(problem(Personalization(localLayers: 2, fineTuneEpochs: 3)) == nil)
        #expect(problem(Personalization(localLayers: 3)) == .localLayers)
        #expect(problem(Personalization(localLayers: 1), layers: 1) == .localLayers)
        #expect(problem(Personalization(fineTuneEpochs: 2), layers: 1) == nil)
        #expect(problem(Personalization(localLayers: -1)) == .localLayers)
        #expect(problem(Personalization(fineTuneEpochs: -1)) == .fineTuneEpochs)
        #expect(problem(Personalization(localLayers: 1), strategy: .scaffold()) == .localLayers)
        #expect(problem(Personalization(fineTuneEpochs: 1), strategy: .scaffold()) == nil)
        #expect(problem(Personalization(localLayers: 1), strategy: .median) == nil)
    }
}

/// `personalization:` in job.yaml.
extension JobFileTests {
    func personal(_ yaml: String) throws -> JobSpec {
        try self.load("name: j\nschema: schema.yaml\n" + yaml)
    }

    func personalKey(_ yaml: String) -> String? {
        do { _ = try self.personal(yaml); return nil } catch let e as JobSpecError { return e.key } catch { return "other: \(error)" }
    }

    @Test("personalization parses into the job, its run settings and its simulation")
    func personalizationParses() throws {
        let spec = try personal("model: {kind: mlp, hidden: [8, 4]}\npersonalization: {local_layers: 2, fine_tune_epochs: 3}\n")
        #expect(spec.personalization == Personalization(localLayers: 2, fineTuneEpochs: 3))
        #expect(spec.runSettings.personalization == spec.personalization)
        #expect(spec.simulationConfig.settings.personalization == spec.personalization)
        #expect(try personal("personalization: {fine_tune_epochs: 1}\n").personalization == Personalization(fineTuneEpochs: 1))
        // Zeros are no personalisation at all.
        #expect(try personal("personalization: {local_layers: 0, fine_tune_epochs: 0}\n").personalization == nil)
        #expect(try personal("rounds: 3\n").personalization == nil)
        // Secure aggregation and robust rules compose with personal layers (the head's entries are zeros).
        let secure = try personal("""
            personalization: {local_layers: 1}
            privacy: {mode: distributed, noise_multiplier: 1, clip: 1, secure_aggregation: true}
            """)
        #expect(secure.personalization?.localLayers == 1 && secure.privacy?.secureAggregation == true)
        #expect(try personal("strategy: {name: median}\npersonalization: {local_layers: 1}\n").personalization?.localLayers == 1)
    }

    @Test("personalization: bad values name their key", arguments: [
        ("model: {kind: mlp, hidden: [8, 4]}\npersonalization: {local_layers: 3}\n", "personalization.local_layers"),
        ("model: {kind: logistic}\npersonalization: {local_layers: 1}\n", "personalization.local_layers"),
        ("personalization: {local_layers: -1}\n", "personalization.local_layers"),
        ("personalization: {fine_tune_epochs: -2}\n", "personalization.fine_tune_epochs"),
        ("personalization: {local_layers: many}\n", "personalization.local_layers"),
        ("strategy: {name: scaffold}\npersonalization: {local_layers: 1}\n", "personalization.local_layers"),
        ("async: {mode: fedbuff, buffer: 2}\npersonalization: {local_layers: 1}\n", "personalization"),
    ])
    func personalizationInvalid(yaml: String, key: String) {
        #expect(self.personalKey(yaml) == key)
    }

    @Test("personalization: the error names the field and says what to do")
    func personalizationMessage() {
        do {
            _ = try personal("model: {kind: mlp, hidden: [8, 4]}\npersonalization: {local_layers: 3}\n")
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("personalization.local_layers: is 3 but the model has 3 layers and at least one must be shared; use at most 2"))
        }
    }
}
