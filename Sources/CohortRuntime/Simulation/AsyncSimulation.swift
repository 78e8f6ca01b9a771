public import CohortModel
public import CohortStrategy
public import CohortTensor

/// How an asynchronous coordinator applies updates that arrive at their own pace.
public enum AsyncMode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// FedBuff (Nguyen et al., "Federated Learning with Buffered Asynchronous Aggregation", AISTATS 2022): buffer
    /// `bufferSize` updates, then apply their staleness- and example-weighted mean, scaled by the server learning rate.
    case fedBuff(bufferSize: Int, serverLearningRate: Float)
    /// FedAsync (Xie, Koyejo, Gupta, "Asynchronous Federated Optimization", 2019): apply each update at once,
    /// mixed in with weight `alpha * s(staleness)`.
    case fedAsync(alpha: Float)

    public var description: String {
        switch self {
        case .fedBuff(let k, let lr): "FedBuff (buffer \(k), server lr \(lr))"
        case .fedAsync(let a): "FedAsync (alpha \(a))"
        }
    }
}

/// Settings of an asynchronous run.
public struct AsyncSettings: Sendable, Hashable, Codable {
    public var mode: AsyncMode
    /// Updates older than this many model versions are dropped.
    public var maxStaleness: Int
    public var training: TrainingConfig
    public var seed: UInt64
    /// Model versions to produce (the run stops earlier at the target).
    public var maxVersions: Int
    /// Evaluate every this many versions.
    public var evaluateEvery: Int
    public var target: MetricTarget?
    public var speed: SpeedModel

    public init(mode: AsyncMode, maxStaleness: Int = 20, training: TrainingConfig, seed: UInt64, maxVersions: Int = 100,
                evaluateEvery: Int = 1, target: MetricTarget? = nil, speed: SpeedModel = SpeedModel()) {
        self.mode = mode
        self.maxStaleness = maxStaleness
        self.training = training
        self.seed = seed
        self.maxVersions = maxVersions
        self.evaluateEvery = evaluateEvery
        self.target = target
        self.speed = speed
    }

    /// The staleness weight s(τ) = 1 / sqrt(1 + τ).
    public static func stalenessWeight(_ tau: Int) -> Double { 1 / (1 + Double(tau)).squareRoot() }
}

/// One point on a run's virtual-time line.
public struct TimelinePoint: Sendable, Hashable, Codable {
    /// Virtual seconds since the start.
    public var time: Double
    /// Model version (asynchronous) or round (synchronous).
    public var version: Int
    /// Local trainings completed so far.
    public var updates: Int
    public var evaluation: EvaluationAggregate?
}

/// A simulated asynchronous federation in virtual time: every site trains at its own pace and is never idle waiting
/// for others; a discrete-event loop orders completions by virtual time (ties by site name), so runs are
/// deterministic and a long virtual run takes seconds of wall time.
public enum AsyncSimulation {
    public struct Result: Sendable {
        public var timeline: [TimelinePoint]
        public var final: ModelParameters
        /// Updates dropped for staleness.
        public var dropped: Int
        /// Mean staleness of applied updates.
        public var meanStaleness: Double
    }

    struct Pending {
        var time: Double
        var site: String
        var baseVersion: Int
        var update: SiteUpdate?
    }

    public static func run(executors: [SiteExecutor], initial: ModelParameters, settings: AsyncSettings,
                           progress: @Sendable (TimelinePoint) -> Void = { _ in }) async -> Result {
        let names = executors.map(\.name).sorted()
        let byName = Dictionary(uniqueKeysWithValues: executors.map { ($0.name, $0) })
        let slowdowns = settings.speed.slowdowns(sites: names, seed: settings.seed)
        let connector = InProcessSites(executors: executors, seed: settings.seed)
        var server = AsyncAggregator(mode: settings.mode, maxStaleness: settings.maxStaleness, global: initial)
        var iteration = [String: Int]()
        var queue = [Pending]()
        var timeline = [TimelinePoint]()
        var completed = 0, dropped = 0, stalenessSum = 0, applied = 0

        func start(_ site: String, at time: Double) {
            let e = byName[site]!
            let i = iteration[site, default: 0] + 1
            iteration[site] = i
            let instructions = TrainInstructions(round: i, training: settings.training, seed: settings.seed)
            let update = try? e.train(global: server.global, instructions: instructions)
            let work = update?.training.examplesSeen ?? e.trainingData.count
            let d = settings.speed.duration(examples: work, slowdown: slowdowns[site]!, seed: settings.seed, site: site, iteration: i)
            queue.append(Pending(time: time + d, site: site, baseVersion: server.version, update: update))
        }

        func evaluate(at time: Double) async -> Bool {
            let (results, _) = await connector.evaluate(round: server.version, sites: names, global: server.global)
            let point = TimelinePoint(time: time, version: server.version, updates: completed, evaluation: EvaluationAggregate(results))
            timeline.append(point)
            progress(point)
            if let target = settings.target, let e = point.evaluation, target.isReached(by: e.global) { return true }
            return false
        }

        _ = await evaluate(at: 0)
        for s in names { start(s, at: 0) }
        var now = 0.0
        loop: while server.version < settings.maxVersions, !queue.isEmpty {
            // The next completion in virtual time (ties: site name).
            let next = queue.indices.min { (queue[$0].time, queue[$0].site) < (queue[$1].time, queue[$1].site) }!
            let event = queue.remove(at: next)
            now = event.time
            completed += 1
            guard let u = event.update else {
                dropped += 1
                start(event.site, at: now)
                continue
            }
            switch server.accept(u, baseVersion: event.baseVersion) {
            case .buffered(let tau):
                stalenessSum += tau
                applied += 1
            case .applied(_, _, let tau):
                stalenessSum += tau
                applied += 1
                if server.version % max(1, settings.evaluateEvery) == 0 || server.version == settings.maxVersions {
                    if await evaluate(at: now) { break loop }
                }
            case .stale, .rejected:
                dropped += 1
            }
            start(event.site, at: now)
        }
        let version = server.version
        let global = server.global
        if timeline.last?.version != version { _ = await evaluate(at: now) }
        return Result(timeline: timeline, final: global, dropped: dropped,
                      meanStaleness: applied > 0 ? Double(stalenessSum) / Double(applied) : 0)
    }

    /// Synchronous FedAvg on the same virtual clock: each round lasts as long as its slowest participant.
    public static func runSynchronous(executors: [SiteExecutor], initial: ModelParameters, settings: RunSettings, speed: SpeedModel,
                                      progress: @Sendable (TimelinePoint) -> Void = { _ in }) async throws -> [TimelinePoint] {
        let names = executors.map(\.name).sorted()
        let slowdowns = speed.slowdowns(sites: names, seed: settings.seed)
        let controller = FederatedController(strategy: FedAvg(), settings: settings)
        let connector = InProcessSites(executors: executors, seed: settings.seed)
        var checkpoint = controller.start(from: initial)
        var time = 0.0
        var updates = 0
        let (first, _) = await connector.evaluate(round: 0, sites: names, global: initial)
        var timeline = [TimelinePoint(time: 0, version: 0, updates: 0, evaluation: EvaluationAggregate(first))]
        let infos = executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) }
        while checkpoint.round < settings.rounds {
            let (record, next) = await controller.runRound(from: checkpoint, sites: infos, connector: connector)
            checkpoint = next
            let durations = record.participants.map { site -> Double in
                let examples = record.aggregated.contains(site)
                    ? settings.training.steps(examples: executors.first { $0.name == site }!.trainingData.count) * settings.training.batchSize
                    : 0
                return speed.duration(examples: examples, slowdown: slowdowns[site]!, seed: settings.seed, site: site, iteration: record.round)
            }
            time += durations.max() ?? 0
            updates += record.aggregated.count
            let point = TimelinePoint(time: time, version: record.round, updates: updates, evaluation: record.evaluation)
            timeline.append(point)
            progress(point)
            if let target = settings.target, let e = record.evaluation, target.isReached(by: e.global) { break }
        }
        return timeline
    }

    /// The first virtual time at which the pooled metric reaches the target, if it does.
    public static func timeToTarget(_ timeline: [TimelinePoint], _ target: MetricTarget) -> Double? {
        timeline.first { $0.evaluation.map { target.isReached(by: $0.global) } ?? false }?.time
    }
}
