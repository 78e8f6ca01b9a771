import CohortCompression
public import CohortModel
public import CohortStrategy
public import CohortTensor

/// Virtual sites in one process: each site's executor runs as a task, at most one per core at a time.
///
/// Simulated dropouts are decided by the job seed, the round and the site name, so they are the same in every run.
/// No thread is created per site; thousands of virtual sites share the cooperative thread pool.
public struct InProcessSites: SiteConnector {
    public let executors: [String: SiteExecutor]
    /// Probability that a selected site drops out of a round.
    public let dropoutRate: Double
    public let seed: UInt64
    /// Maximum concurrently running site tasks.
    public let concurrency: Int
    /// What each virtual site keeps between rounds (SCAFFOLD's control variates, compression residuals, personal
    /// layers).
    public let state = SiteStateStore()
    /// The job's personal tensors (FedPer): each site evaluates the global model with its own values of them.
    public var personalTensors: [String] = []

    /// The state-store key of a site's personal layers.
    public static let personalHeadKey = "personal.head"

    public init(executors: [SiteExecutor], dropoutRate: Double = 0, seed: UInt64, concurrency: Int = ProcessorCount.active) {
        self.executors = Dictionary(uniqueKeysWithValues: executors.map { ($0.name, $0) })
        self.dropoutRate = dropoutRate
        self.seed = seed
        self.concurrency = max(1, concurrency)
    }

    /// Whether a site drops out of a round (deterministic).
    public func dropsOut(site: String, round: Int) -> Bool {
        guard self.dropoutRate > 0 else { return false }
        var rng = RandomSource(seed: self.seed).derived("dropout", String(round), site)
        return rng.bernoulli(self.dropoutRate)
    }

    /// Secure aggregation in-process: the same SecAgg+ state machines as the network, driven without I/O.
    static func aggregateSecurely<A: UpdateAggregator>(
        _ updates: [SiteUpdate], settings: SecureSumSettings, instructions: TrainInstructions, into aggregator: inout A
    ) -> [SiteFailure] {
        guard var secure = aggregator as? any SecureSumAggregator else {
            return updates.map { SiteFailure(site: $0.site, code: .rejected, message: "this strategy cannot take a secure sum") }
        }
        switch SecureRound.simulate(updates: updates, settings: settings, seed: instructions.seed, round: instructions.round) {
        case .success(let sum):
            do throws(SiteFailure) {
                try secure.acceptSecureSum(sum)
            } catch {
                return [error]
            }
            aggregator = secure as! A
            return []
        case .failure(let e):
            return updates.map { SiteFailure(site: $0.site, code: .dropped, message: "secure aggregation failed: \(e)") }
        }
    }

    public func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        var failures = [SiteFailure]()
        var work = [SiteExecutor]()
        for name in plan.participants {
            guard let e = self.executors[name] else {
                failures.append(SiteFailure(site: name, code: .dropped, message: "no such site"))
                continue
            }
            if self.dropsOut(site: name, round: plan.round) {
                failures.append(SiteFailure(site: name, code: .dropped, message: "simulated dropout"))
            } else {
                work.append(e)
            }
        }
        let instructions = plan.instructions
        var controls = [String: [Float]]()
        if instructions.serverControl != nil {
            for e in work { controls[e.name] = await self.state.value(site: e.name, key: "scaffold.control") }
        }
        let known = controls
        let store = self.state
        var residuals = [String: ErrorFeedback]()
        if instructions.compression != nil {
            for e in work { residuals[e.name] = await self.state.value(site: e.name, key: "compression.residual").map(ErrorFeedback.init(residual:)) }
        }
        let knownResiduals = residuals
        var heads = [String: [Float]]()
        if instructions.personalTensors != nil {
            for e in work { heads[e.name] = await self.state.value(site: e.name, key: Self.personalHeadKey) }
        }
        let knownHeads = heads
        var masked = [SiteUpdate]()
        let results = await Self.boundedMap(work, concurrency: self.concurrency) { e -> Result<SiteUpdate, SiteFailure> in
            do throws(SiteFailure) {
                let r = try e.train(global: global, instructions: instructions, siteControl: known[e.name], personalHead: knownHeads[e.name])
                if let c = r.siteControl { store.keep(site: e.name, key: "scaffold.control", value: c) }
                if let h = r.personalHead { store.keep(site: e.name, key: Self.personalHeadKey, value: h) }
                var update = r.update
                let payload = UpdateEncoding.payload(of: update)
                let down = 4 * (global.count + (instructions.serverControl?.count ?? 0))
                if let codec = instructions.compression {
                    // Encoded and decoded as over the network, so the simulated model has the same bits.
                    var residual = knownResiduals[e.name]
                    let encoded = try UpdateEncoding.encode(payload, codec: codec, residual: &residual, seed: instructions.seed,
                                                            site: e.name, round: instructions.round)
                    if let residual { store.keep(site: e.name, key: "compression.residual", value: residual.residual) }
                    update = UpdateEncoding.replacingPayload(
                        of: update, with: try UpdateEncoding.decode(encoded.bytes, count: payload.count, site: e.name))
                    update.transfer = TransferBytes(down: down, up: encoded.bytes.count, upDense: 4 * payload.count)
                } else {
                    update.transfer = TransferBytes(down: down, up: 4 * payload.count, upDense: 4 * payload.count)
                }
                return .success(update)
            } catch {
                return .failure(error)
            }
        } each: { result in
            switch result {
            case .success(let update) where instructions.secureSum != nil:
                masked.append(update)
            case .success(let update):
                do throws(SiteFailure) { try aggregator.accept(update) } catch { failures.append(error) }
            case .failure(let f):
                failures.append(f)
            }
        }
        _ = results
        if let settings = instructions.secureSum {
            failures += Self.aggregateSecurely(masked, settings: settings, instructions: instructions, into: &aggregator)
        }
        return failures
    }

    public func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        let models = await self.personalModels(sites: sites, global: global)
        var out = [SiteEvaluation]()
        var failures = [SiteFailure]()
        await Self.boundedMap(models, concurrency: self.concurrency) { item in item.1.map { item.0.evaluate($0) } } each: {
            switch $0 {
            case .success(let r): out.append(r)
            case .failure(let f): failures.append(f)
            }
        }
        return (out, failures)
    }

    /// Each site's model: the global model with the site's own personal layers (the global model itself without
    /// personal tensors).
    func personalModels(sites: [String], global: ModelParameters) async -> [(SiteExecutor, Result<ModelParameters, SiteFailure>)] {
        var out = [(SiteExecutor, Result<ModelParameters, SiteFailure>)]()
        for e in sites.compactMap({ self.executors[$0] }) {
            guard !self.personalTensors.isEmpty else {
                out.append((e, .success(global)))
                continue
            }
            let head = await self.state.value(site: e.name, key: Self.personalHeadKey)
            do throws(SiteFailure) {
                out.append((e, .success(try e.personalized(global, personalTensors: self.personalTensors, head: head))))
            } catch {
                out.append((e, .failure(error)))
            }
        }
        return out
    }

    /// After federation: every site's personalised model (its own head on the global body), fine-tuned on its
    /// training data for `fineTuneEpochs` epochs when positive, evaluated on its test data.
    ///
    /// - Returns: the evaluations of the models before fine-tuning (nil without personal tensors) and after it (nil
    ///   without fine-tuning).
    public func personalize(
        sites: [String], global: ModelParameters, fineTuneEpochs: Int, training: TrainingConfig, seed: UInt64
    ) async -> (personalHead: [SiteEvaluation]?, fineTuned: [SiteEvaluation]?) {
        let models = await self.personalModels(sites: sites, global: global)
        var heads = [SiteEvaluation](), tuned = [SiteEvaluation]()
        await Self.boundedMap(models, concurrency: self.concurrency) { item -> (SiteEvaluation, SiteEvaluation?)? in
            guard case (let e, .success(let m)) = item else { return nil }
            let tuned = fineTuneEpochs > 0 ? e.evaluate(e.fineTune(m, epochs: fineTuneEpochs, training: training, seed: seed)) : nil
            return (e.evaluate(m), tuned)
        } each: {
            guard let (h, t) = $0 else { return }
            heads.append(h)
            if let t { tuned.append(t) }
        }
        return (self.personalTensors.isEmpty ? nil : heads.sorted { $0.site < $1.site },
                fineTuneEpochs > 0 ? tuned.sorted { $0.site < $1.site } : nil)
    }

    /// Runs `body` over `items` with at most `concurrency` tasks in flight, handing each result to `each` on the
    /// calling task as it completes.
    @discardableResult
    static func boundedMap<T: Sendable, R: Sendable>(
        _ items: [T], concurrency: Int, _ body: @escaping @Sendable (T) -> R, each: (R) -> Void
    ) async -> Int {
        await withTaskGroup(of: R.self) { group in
            var next = 0
            var done = 0
            while next < items.count && next < concurrency {
                let item = items[next]
                group.addTask { body(item) }
                next += 1
            }
            while let r = await group.next() {
                each(r)
                done += 1
                if next < items.count {
                    let item = items[next]
                    group.addTask { body(item) }
                    next += 1
                }
            }
            return done
        }
    }
}
