public import CohortModel
public import CohortPrivacy

/// Turns the privacy options a person writes (in `job.yaml` or on the command line) into ``PrivacySettings``,
/// calibrating the noise multiplier when a target ε is given instead.
public enum PrivacyOptionsParser {
    /// A bad option, naming it.
    public struct Problem: Error, CustomStringConvertible {
        public var key: String
        public var message: String
        public var description: String { "\(self.key): \(self.message)" }
    }

    /// The settings these options describe.
    ///
    /// - Parameters:
    ///   - mode: central, distributed or local.
    ///   - noiseMultiplier, targetEpsilon: exactly one of them. A target ε is calibrated for `rounds` rounds at
    ///     site sampling rate `fraction` (central, distributed), or for local DP-SGD at a site with
    ///     `localExamples` examples trained with `training` (the smallest site spends the most; without it, local
    ///     calibration is refused).
    ///   - clip: the L2 clip norm (default 1).
    ///   - delta: default 1e-5.
    ///   - adaptive: central only; the count noise defaults to the noise multiplier (a quarter of the budget).
    ///   - keyPrefix: prefix of the keys named in problems ("privacy." in job files, "--" on the command line).
    public static func settings(
        mode: String, noiseMultiplier: Double?, targetEpsilon: Double?, clip: Double?, delta: Double?,
        adaptive: AdaptiveClipping.Settings?, secureAggregation: Bool, rounds: Int, fraction: Double,
        training: TrainingConfig? = nil, localExamples: Int? = nil, keyPrefix: String
    ) throws -> PrivacySettings {
        func bad(_ key: String, _ message: String) -> Problem { Problem(key: keyPrefix + key, message: message) }
        let clip = clip ?? 1
        let delta = delta ?? 1e-5
        guard clip.isFinite, clip > 0 else { throw bad("clip", "must be a positive number, not \(clip)") }
        guard delta > 0, delta < 1 else { throw bad("delta", "must be in (0, 1), not \(delta)") }
        let z: Double
        switch (noiseMultiplier, targetEpsilon) {
        case (let given?, nil):
            z = given
        case (nil, let eps?):
            let q: Double
            var steps = rounds
            if mode == "local" {
                guard let n = localExamples, let training, n > 0 else {
                    throw bad("target_epsilon", "local DP is calibrated per site; give a noise multiplier (find one with `cohort privacy calibrate`)")
                }
                q = min(1, Double(training.batchSize) / Double(n))
                steps = rounds * max(1, training.steps(examples: n))
            } else {
                q = min(1, fraction)
            }
            do {
                z = try RDPAccountant.noiseMultiplier(forEpsilon: eps, delta: delta, samplingRate: q, steps: steps).noiseMultiplier
            } catch {
                throw bad("target_epsilon", "\(error)")
            }
        case (nil, nil): throw bad("noise_multiplier", "give a noise multiplier or a target epsilon")
        case (_?, _?): throw bad("target_epsilon", "give a noise multiplier or a target epsilon, not both")
        }
        let configuration: DPConfiguration
        switch mode {
        case "central":
            let a = adaptive.map { s -> AdaptiveClipping.Settings in
                var s = s
                if s.countNoiseStandardDeviation == 0 { s.countNoiseStandardDeviation = z }
                return s
            }
            configuration = .central(noiseMultiplier: z, clip: clip, adaptive: a)
        case "distributed":
            if adaptive != nil { throw bad("adaptive_clip", "applies to central DP only") }
            configuration = .distributed(noiseMultiplier: z, clip: clip)
        case "local":
            if adaptive != nil { throw bad("adaptive_clip", "applies to central DP only") }
            configuration = .local(noiseMultiplier: z, clip: clip)
        default:
            throw bad("mode", "'\(mode)' is not central, distributed or local")
        }
        let settings = PrivacySettings(configuration: configuration, delta: delta, secureAggregation: secureAggregation)
        do { try settings.validate() } catch { throw bad("noise_multiplier", "\(error)") }
        return settings
    }
}
