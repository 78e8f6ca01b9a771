import CohortData
import CohortModel
import CohortRuntime
import CohortTesting
import CohortWire
import Foundation
import GRPCCore
import Testing

@Suite("Large models", .serialized)
struct LargeModelTests {
    @Test("a 300 MB model travels to a site and back in chunks, verified end to end", .timeLimit(.minutes(5)))
    func threeHundredMegabytes() async throws {
        let f = try await TestFederation(sites: ["hospital-01"])
        try await f.startCoordinator()
        try f.startSite("hospital-01")
        // 43 inputs -> 1,666,667 hidden -> 1 output: 75,000,016 parameters, 300 MB of Float32.
        let spec = JobSpec(name: "large", sites: ["hospital-01"], minimumSites: 1, model: .mlp, hidden: [1_666_667],
                           schemaYAML: SyntheticHospitalNetwork.schemaYAML, rounds: 1,
                           training: TrainingConfig(budget: .steps(1), batchSize: 16, optimizer: .sgd(learningRate: 0.01)),
                           seed: 1, roundTimeoutSeconds: 240, evaluateEvery: 0, waitForSitesSeconds: 30)
        let parameterCount = try spec.modelSpec().layout.totalCount
        #expect(parameterCount * 4 > 300_000_000)
        // The site's policy allows one site per aggregate for this test.
        let id = try await f.submit(Cohort_V1_JobSpec(spec))
        let detail = try await f.waitForEnd(id, timeout: 240)
        #expect(detail.info.status == "finished", "\(detail.info.message)")
        #expect(detail.rounds.first?.aggregated == ["hospital-01"])
        let (values, sha) = try await f.admin { admin in
            var r = Cohort_V1_JobRequest()
            r.protocol = WireProtocol.version
            r.jobID = id
            return try await admin.downloadModel(r) { response in
                var assembler: VectorAssembler?
                for try await chunk in response.messages {
                    switch chunk.part {
                    case .header(let h)?: assembler = try VectorAssembler(header: h, limit: Int.max)
                    case .data(let d)?: try assembler!.append(d)
                    case nil: break
                    }
                }
                return (try assembler!.finish(), assembler!.expected.sha256)
            }
        }
        #expect(values.count == parameterCount)
        #expect(sha == detail.info.finalModelSha256)
        // The site trained: the final model is not the initial one.
        let initial = try spec.initialModel()
        #expect(values != initial.flat)
        await f.stop()
    }
}
