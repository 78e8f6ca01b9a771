import ArgumentParser
import CohortModel
import CohortPrivacy
import CohortRuntime

/// Differential-privacy flags of `cohort simulate` (job files have the same settings under `privacy:`).
struct PrivacyFlags: ParsableArguments {
    @Option(help: "Differential privacy: central (the coordinator noises the sum of clipped site updates), distributed (each site adds its share of the noise), or local (DP-SGD inside each site's training).")
    var dp: String?

    @Option(name: .customLong("noise-multiplier"), help: "Noise standard deviation over the clip norm.")
    var noiseMultiplier: Double?

    @Option(name: .customLong("target-epsilon"), help: "Calibrate the noise multiplier to reach this epsilon after all rounds (instead of --noise-multiplier).")
    var targetEpsilon: Double?

    @Option(help: "L2 clip norm of site updates (central, distributed) or of per-example gradients (local). Default 1.")
    var clip: Double?

    @Option(help: "Delta of the reported (epsilon, delta). Default 1e-5.")
    var delta: Double?

    @Flag(name: .customLong("adaptive-clip"), help: "Central DP: adapt the clip norm to the median update norm (Andrew et al. 2021).")
    var adaptiveClip = false

    @Option(name: .customLong("max-epsilon"), help: "Every site's privacy budget: a site the job would take past it refuses the job.")
    var maxEpsilon: Double?

    /// The privacy settings these flags ask for (nil without --dp). Local calibration uses the smallest site,
    /// which spends the most.
    func settings(rounds: Int, fraction: Double, training: TrainingConfig, smallestSite: Int?) throws -> PrivacySettings? {
        guard let mode = self.dp else {
            if self.noiseMultiplier != nil || self.targetEpsilon != nil || self.clip != nil || self.delta != nil || self.adaptiveClip {
                throw ValidationError("privacy options need --dp central|distributed|local")
            }
            return nil
        }
        return try PrivacyOptionsParser.settings(
            mode: mode, noiseMultiplier: self.noiseMultiplier, targetEpsilon: self.targetEpsilon, clip: self.clip, delta: self.delta,
            adaptive: self.adaptiveClip ? AdaptiveClipping.Settings(countNoiseStandardDeviation: 0) : nil,
            secureAggregation: false, rounds: rounds, fraction: fraction, training: training, localExamples: smallestSite,
            keyPrefix: "--")
    }
}
