import CohortPrivacy
import Foundation
import Testing

@Suite("DPConfiguration")
struct DPConfigurationTests {
    @Test("central and distributed modes account rounds at the site sampling rate")
    func siteLevel() throws {
        let row = Vectors.rows[4]  // σ 1.3, q 0.2, 50 steps
        for config in [DPConfiguration.central(noiseMultiplier: 1.3, clip: 0.5), .distributed(noiseMultiplier: 1.3, clip: 0.5)] {
            let spend = try config.epsilon(rounds: 50, samplingRate: 0.2, delta: 1e-5)
            #expect(isClose(spend.epsilon, row.signedEpsilon, relative: 1e-6))
            #expect(spend.steps == 50 && spend.order == 3.5 && spend.delta == 1e-5)
        }
    }

    @Test("local mode accounts rounds × local steps at the batch rate")
    func local() throws {
        // σ 1.1, q 0.01, 1000 steps = 10 rounds × 100 local steps.
        let spend = try DPConfiguration.local(noiseMultiplier: 1.1, clip: 1).epsilon(
            rounds: 10, samplingRate: 0.01, delta: 1e-5, localSteps: 100)
        #expect(spend.steps == 1000)
        #expect(isClose(spend.epsilon, 1.711770, relative: 1e-6))
        let entry = spend.ledgerEntry(jobID: "job-7")
        #expect(entry.jobID == "job-7" && entry.epsilon == spend.epsilon && entry.mechanism.contains("record-level"))
    }

    @Test("adaptive settings do not change the accounting (the total z is accounted)")
    func adaptive() throws {
        let plain = try DPConfiguration.central(noiseMultiplier: 1.3, clip: 0.5).epsilon(rounds: 50, samplingRate: 0.2, delta: 1e-5)
        let adaptive = try DPConfiguration.central(
            noiseMultiplier: 1.3, clip: 0.5, adaptive: .init(countNoiseStandardDeviation: 2)
        ).epsilon(rounds: 50, samplingRate: 0.2, delta: 1e-5)
        #expect(adaptive.epsilon == plain.epsilon)
        #expect(adaptive.summary.contains("adaptive"))
    }

    @Test("invalid plans are refused")
    func invalid() {
        let ok = DPConfiguration.central(noiseMultiplier: 1, clip: 1)
        #expect(throws: PrivacyError(.invalidArgument, "")) { try ok.epsilon(rounds: 0, samplingRate: 0.1, delta: 1e-5) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try ok.epsilon(rounds: 10, samplingRate: 0, delta: 1e-5) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try ok.epsilon(rounds: 10, samplingRate: 0.1, delta: 1) }
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try DPConfiguration.central(noiseMultiplier: 0, clip: 1).epsilon(rounds: 10, samplingRate: 0.1, delta: 1e-5)
        }
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try DPConfiguration.local(noiseMultiplier: 1, clip: -1).epsilon(rounds: 10, samplingRate: 0.1, delta: 1e-5)
        }
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try DPConfiguration.local(noiseMultiplier: 1, clip: 1).epsilon(rounds: 10, samplingRate: 0.1, delta: 1e-5, localSteps: 0)
        }
        #expect(throws: PrivacyError(.invalidArgument, "")) {
            try DPConfiguration.central(noiseMultiplier: 1, clip: 1, adaptive: .init(targetQuantile: 2, countNoiseStandardDeviation: 1))
                .epsilon(rounds: 10, samplingRate: 0.1, delta: 1e-5)
        }
    }

    @Test("round-trips through JSON in every mode")
    func codable() throws {
        let configs: [DPConfiguration] = [
            .central(noiseMultiplier: 1.1, clip: 0.5, adaptive: .init(targetQuantile: 0.6, learningRate: 0.1, countNoiseStandardDeviation: 2.5)),
            .central(noiseMultiplier: 1.1, clip: 0.5),
            .distributed(noiseMultiplier: 0.9, clip: 1),
            .local(noiseMultiplier: 1.3, clip: 2),
        ]
        for config in configs {
            let decoded = try JSONDecoder().decode(DPConfiguration.self, from: JSONEncoder().encode(config))
            #expect(decoded == config)
        }
        #expect(configs[2].noiseMultiplier == 0.9 && configs[3].clip == 2)
    }
}
