import CohortTesting
import Foundation
import Testing

@Suite("cohort simulate --regions: two-tier aggregation")
struct RegionsSimulateTests {
    @Test("--regions 3 gives the flat FedAvg model bit for bit, with regions as the top tier's participants; bad combinations are refused")
    func regionsEqualFlat() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        func run(_ extra: [String], out: String) throws -> CohortBinary.Output {
            try CohortBinary.run(["simulate", "--sites", "7", "--rounds", "2", "--no-baselines", "--quiet", "--out", dir.path(out).path] + extra)
        }
        let flat = try run([], out: "flat")
        let tiers = try run(["--regions", "3"], out: "tiers")
        #expect(flat.status == 0 && tiers.status == 0, "\(flat.stderr) \(tiers.stderr)")
        let a = try Data(contentsOf: dir.path("flat/model.safetensors"))
        let b = try Data(contentsOf: dir.path("tiers/model.safetensors"))
        #expect(a == b)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("tiers/metrics.json"))) as? [String: Any]
        let rounds = metrics?["rounds"] as? [[String: Any]] ?? []
        #expect(rounds.first?["participants"] as? [String] == ["region-1", "region-2", "region-3"])
        let bad = try run(["--regions", "2", "--robust", "median"], out: "bad")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--regions"))
    }
}
