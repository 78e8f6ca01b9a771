public import CohortSecAgg
public import CohortStrategy
public import CohortTensor

/// Secure aggregation of one training round, shared by the simulation and the network: the public parameters every
/// party derives, and the conversion of the protocol's result into the strategy's ``SecureSum``.
public enum SecureRound {
    /// The round's SecAgg+ parameters: the participants in name order, a neighbour graph drawn from the job seed and
    /// the round, the settings' fixed-point encoding with weight 1, and the smallest safe modulus.
    ///
    /// - Throws: ``SecAggError`` when the parameters cannot work (e.g. fewer than two participants).
    public static func configuration(
        participants: [String], vectorLength: Int, settings: SecureSumSettings, seed: UInt64, round: Int, session: String
    ) throws(SecAggError) -> SecAggConfiguration {
        var graph = RandomSource(seed: seed).derived("secagg-graph", String(round))
        let config = SecAggConfiguration(
            participants: participants.sorted(), graphSeed: graph.next(), vectorLength: vectorLength,
            encoding: FixedPointEncoding(clipRange: settings.clipRange, scaleBits: settings.scaleBits, maxWeight: 1),
            sessionID: session)
        try config.validate()
        return config
    }

    /// The strategy's view of a recovered sum.
    public static func secureSum(_ result: SecAggResult, configuration: SecAggConfiguration,
                                 training: [String: SiteTrainingRecord]) -> SecureSum {
        let survivors = result.survivors.sorted()
        return SecureSum(units: Array(result.integerSums.prefix(configuration.vectorLength)),
                         fractionBits: configuration.encoding.scaleBits, sites: survivors,
                         training: training.filter { survivors.contains($0.key) })
    }

    /// Runs the protocol in-process over the sites' updates (the simulation's secure aggregation), with keys and
    /// masks drawn from the job seed so runs are reproducible.
    ///
    /// - Returns: The sum, or the protocol's error (the round then aggregates nothing).
    public static func simulate(
        updates: [SiteUpdate], settings: SecureSumSettings, seed: UInt64, round: Int
    ) -> Result<SecureSum, SecAggError> {
        let sorted = updates.sorted { $0.site < $1.site }
        guard sorted.count >= 2 else {
            return .failure(SecAggError(code: .invalidConfiguration,
                                        message: "secure aggregation needs at least 2 sites in a round; \(sorted.count) answered"))
        }
        do throws(SecAggError) {
            let config = try self.configuration(
                participants: sorted.map(\.site), vectorLength: sorted[0].delta.count, settings: settings, seed: seed, round: round,
                session: "simulation/r\(round)")
            var keys = RandomSource(seed: seed).derived("secagg", String(round))
            let report = try SecAggSimulation.run(configuration: config, inputs: sorted.map(\.delta), seed: keys.next())
            guard let result = report.result else {
                return .failure(report.abortReason ?? SecAggError(code: .aborted, message: "the secure aggregation round ended without a sum"))
            }
            let training = Dictionary(uniqueKeysWithValues: sorted.map { ($0.site, SiteTrainingRecord($0)) })
            return .success(self.secureSum(result, configuration: config, training: training))
        } catch {
            return .failure(error)
        }
    }
}
