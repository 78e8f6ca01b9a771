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
    /// What each virtual site keeps between rounds (SCAFFOLD's control variates).
    public let state = SiteStateStore()

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
        let results = await Self.boundedMap(work, concurrency: self.concurrency) { e -> Result<SiteUpdate, SiteFailure> in
            do throws(SiteFailure) {
                let r = try e.train(global: global, instructions: instructions, siteControl: known[e.name])
                if let c = r.siteControl { store.keep(site: e.name, key: "scaffold.control", value: c) }
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
            case .success(let update):
                do throws(SiteFailure) { try aggregator.accept(update) } catch { failures.append(error) }
            case .failure(let f):
                failures.append(f)
            }
        }
        _ = results
        return failures
    }

    public func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        let work = sites.compactMap { self.executors[$0] }
        var out = [SiteEvaluation]()
        await Self.boundedMap(work, concurrency: self.concurrency) { e in e.evaluate(global) } each: { out.append($0) }
        return (out, [])
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
