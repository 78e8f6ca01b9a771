import CohortData
import CohortRuntime
import CohortStrategy
import CohortTesting
import CohortWire
import Foundation
import GRPCCore
import Testing

@Suite("Robust aggregation over the network", .serialized)
struct RobustJobTests {
    @Test("robust strategies and their parameters survive the wire conversion; bad ones are refused")
    func wireRoundTrip() throws {
        let strategies: [StrategySpec] = [
            .median, .trimmedMean(beta: 0.2), .trimmedMean(beta: 0), .krum(byzantine: 1), .multiKrum(byzantine: 2, selected: 5),
            .multiKrum(byzantine: 0), .bulyan(byzantine: 1), .normBound(multiple: 2.5, mode: .drop), .normBound(multiple: 3, mode: .clip),
            .fedAvg(serverLearningRate: 0.5), .fedAvgM(serverLearningRate: 0.5, momentum: 0.8),
        ]
        for strategy in strategies {
            let spec = JobSpec(name: "j", schemaYAML: SyntheticHospitalNetwork.schemaYAML, strategy: strategy)
            #expect(try Cohort_V1_JobSpec(spec).jobSpec().strategy == strategy)
        }
        var mode = Cohort_V1_JobSpec(JobSpec(name: "j", schemaYAML: SyntheticHospitalNetwork.schemaYAML, strategy: .normBound()))
        mode.strategy.normMode = "shrink"
        #expect(throws: WireError.self) { try mode.jobSpec() }
        var beta = Cohort_V1_JobSpec(JobSpec(name: "j", schemaYAML: SyntheticHospitalNetwork.schemaYAML, strategy: .trimmedMean(beta: 0.1)))
        beta.strategy.trimFraction = 0.9
        #expect(throws: WireError.self) { try beta.jobSpec() }
    }

    @Test("a Krum job runs over the network and records the sites Krum set aside; Bulyan on too few sites is refused",
          .timeLimit(.minutes(3)))
    func krumJob() async throws {
        let sites = ["hospital-01", "hospital-02", "hospital-03"]
        let f = try await TestFederation(sites: sites)
        try await f.startCoordinator()
        for s in sites { try f.startSite(s) }
        var job = try testJob(name: "krum", sites: sites, minSites: 3)
        job.strategy.name = "krum"
        job.strategy.byzantine = 0  // n = 3 >= 2f + 3
        let id = try await f.submit(job)
        let detail = try await f.waitForEnd(id)
        #expect(detail.info.status == "finished", "\(detail.info.message)")
        #expect(detail.rounds.count == 2)
        for r in detail.rounds {
            #expect(r.aggregated.count == 1, "round \(r.round) aggregated \(r.aggregated)")
            #expect(r.failures.count == 2 && r.failures.allSatisfy { $0.code == "excluded" }, "round \(r.round): \(r.failures)")
        }
        var bulyan = try testJob(name: "bulyan", sites: sites, minSites: 3)
        bulyan.strategy.name = "bulyan"
        bulyan.strategy.byzantine = 1
        let refusal = await #expect(throws: RPCError.self) { try await f.submit(bulyan) }
        #expect(refusal?.code == .invalidArgument)
        #expect(refusal?.message.contains("n >= 4f + 3") == true, "\(refusal?.message ?? "")")
        await f.stop()
    }
}
