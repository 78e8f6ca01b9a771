import CohortPKI
import CohortPrivacy
import CohortRuntime
import CohortStore
import CohortTesting
import CohortWire
import Foundation
import Testing

@Suite("Differential privacy over the network: site ledgers, refusals, audited (epsilon, delta)", .serialized)
struct PrivacyNetworkTests {
    static let sites = ["hospital-01", "hospital-02", "hospital-03"]

    /// A 2-round logistic job on all three sites (two must accept) with central DP at noise multiplier `z`.
    static func job(_ name: String, z: Double?) throws -> Cohort_V1_JobSpec {
        var spec = try testJob(name: name, sites: Self.sites, minSites: 2, rounds: 2).jobSpec()
        spec.privacy = z.map { PrivacySettings(configuration: .central(noiseMultiplier: $0, clip: 1), delta: 1e-5) }
        return Cohort_V1_JobSpec(spec)
    }

    /// The ε the accountant gives a 2-round central-DP job with every site in every round.
    static func epsilon(z: Double) throws -> Double {
        try DPConfiguration.central(noiseMultiplier: z, clip: 1).epsilon(rounds: 2, samplingRate: 1, delta: 1e-5).epsilon
    }

    static func payload(_ entry: LogEntry) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(entry.payload.utf8)) as? [String: Any] ?? [:]
    }

    @Test("ledgers refuse what would exceed max_epsilon, accept and record what fits, and the audit states the job's (epsilon, delta)",
          .timeLimit(.minutes(4)))
    func ledger() async throws {
        let z = 2.0
        let eps = try Self.epsilon(z: z)
        let f = try await TestFederation(sites: Self.sites)
        try await f.startCoordinator()
        // Two sites can afford one such job (not two); the third cannot afford even one.
        try f.startSite("hospital-01") { $0.policy.maxEpsilon = 1.5 * eps }
        try f.startSite("hospital-02") { $0.policy.maxEpsilon = 1.5 * eps }
        try f.startSite("hospital-03") { $0.policy.maxEpsilon = 0.5 * eps }

        // Job 1: hospital-03 refuses before any training; the others train.
        let first = try await f.waitForEnd(try await f.submit(try Self.job("dp-1", z: z)))
        #expect(first.info.status == "finished", "\(first.info.message)")
        #expect(first.rounds.allSatisfy { Set($0.aggregated) == ["hospital-01", "hospital-02"] })
        let audit = try f.auditEvents()
        let joined = try #require(audit.first { $0.event == "job.sites" })
        let refused = try Self.payload(joined)["refused"] as? [String] ?? []
        #expect(refused.count == 1 && refused[0].hasPrefix("hospital-03") && refused[0].contains("max_epsilon"), "\(refused)")
        let finished = try #require(audit.first { $0.event == "job.finished" })
        let stated = try #require(try Self.payload(finished)["epsilon"] as? Double)
        #expect(abs(stated - eps) <= 1e-9 * eps, "audited epsilon \(stated), accountant \(eps)")
        #expect(try Self.payload(finished)["delta"] as? Double == 1e-5)
        let rounds = audit.filter { $0.event == "round.completed" }
        #expect(rounds.count == 2 && rounds.allSatisfy { (try? Self.payload($0)["epsilon"] as? Double) != nil })

        // Job 2 would take hospital-01 and -02 past their budget: both refuse, the job fails and says why.
        let second = try await f.waitForEnd(try await f.submit(try Self.job("dp-2", z: z)))
        #expect(second.info.status == "failed")
        #expect(second.info.message.contains("max_epsilon"), "\(second.info.message)")
        // Job 3 has no differential privacy: sites with a budget refuse it.
        let third = try await f.waitForEnd(try await f.submit(try Self.job("plain", z: nil)))
        #expect(third.info.status == "failed")
        #expect(third.info.message.contains("no differential privacy"), "\(third.info.message)")
        await f.stop()

        // Each accepting site's ledger holds exactly the first job, in the egress log too; the refusing site's is empty.
        for site in ["hospital-01", "hospital-02"] {
            let store = try SiteStore(directory: f.dir.path("state-\(site)"))
            let spends = try store.privacySpends()
            #expect(spends.count == 1 && spends[0].jobID == "job-0001", "\(site): \(spends)")
            #expect(abs((spends.first?.epsilon ?? 0) - eps) <= 1e-9 * eps)
            #expect(try store.egress.entries(from: 1, limit: 10_000).contains { $0.event == "privacy.spend" })
            #expect(try store.egress.verify().isValid)
        }
        #expect(try SiteStore(directory: f.dir.path("state-hospital-03")).privacySpends().isEmpty)
    }
}
