public import CohortModel
public import CohortStrategy
public import CohortTensor

/// The two references a federated model is judged against: each site training alone, and one model trained on all
/// sites' data pooled (what federation tries to approach without pooling).
public enum Baselines {
    /// Trains one model per site on its own data with `config` and evaluates it on that site's test data.
    ///
    /// Each site starts from `initial` and uses its own derived randomness.
    public static func localOnly(
        executors: [SiteExecutor], initial: ModelParameters, config: TrainingConfig, seed: UInt64,
        concurrency: Int = ProcessorCount.active
    ) async -> [SiteEvaluation] {
        var out = [SiteEvaluation]()
        await InProcessSites.boundedMap(executors, concurrency: concurrency) { e -> SiteEvaluation in
            var params = initial
            var rng = RandomSource(seed: seed).derived("local-only", e.name)
            Trainer.train(e.network, parameters: &params, on: e.trainingData, config: config, rng: &rng)
            return e.evaluate(params)
        } each: { out.append($0) }
        return out.sorted { $0.site < $1.site }
    }

    /// Trains one model on the union of all sites' training data and evaluates it at every site.
    public static func centralized(
        executors: [SiteExecutor], initial: ModelParameters, config: TrainingConfig, seed: UInt64
    ) async -> (model: ModelParameters, evaluations: [SiteEvaluation]) {
        guard let first = executors.first else { return (initial, []) }
        var pooled = ExampleSet(featureCount: first.trainingData.featureCount, classCount: first.trainingData.classCount)
        for e in executors.sorted(by: { $0.name < $1.name }) { pooled.append(e.trainingData) }
        var params = initial
        var rng = RandomSource(seed: seed).derived("centralized")
        Trainer.train(first.network, parameters: &params, on: pooled, config: config, rng: &rng)
        let model = params
        var out = [SiteEvaluation]()
        await InProcessSites.boundedMap(executors, concurrency: ProcessorCount.active) { e in e.evaluate(model) } each: {
            out.append($0)
        }
        return (model, out.sorted { $0.site < $1.site })
    }
}
