import CohortData
import CohortModel
import CohortReport
import CohortRuntime
import CohortStrategy
import CohortTesting
import Foundation
import Testing

@Suite("Reports")
struct ReportTests {
    @Test("a simulation writes the four outputs and metrics.json follows its documented contract")
    func outputs() async throws {
        let federation = try FederationLoader.synthetic(seed: 3, hospitals: 6)
        let result = try await Simulation.run(federation: federation, config: SimulationConfig(
            model: .logistic, settings: RunSettings(rounds: 3, training: TrainingConfig(), seed: 3)))
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = try ReportWriter.write(result, federation: federation, to: dir.url, command: "cohort simulate --test")
        for f in files { #expect(FileManager.default.fileExists(atPath: dir.path(f).path), "\(f) missing") }

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("metrics.json"))) as! [String: Any]
        let rounds = json["rounds"] as! [[String: Any]]
        #expect(rounds.count == 3)
        #expect(rounds.map { $0["round"] as! Int } == [1, 2, 3])
        for r in rounds {
            let g = r["global"] as! [String: Any]
            for key in ["accuracy", "auc", "loss", "balanced_accuracy", "f1", "brier", "count"] { #expect(g[key] != nil, "rounds[].global.\(key)") }
            #expect((r["sites"] as! [String: Any]).count == 6)
        }
        let final = json["final"] as! [String: Any]
        #expect(final["global"] != nil && final["site_mean"] != nil && (final["sites"] as! [String: Any]).count == 6)
        let baselines = json["baselines"] as! [String: Any]
        let local = baselines["local"] as! [String: Any]
        #expect(local["mean"] != nil && (local["sites"] as! [String: Any]).count == 6)
        let central = baselines["centralized"] as! [String: Any]
        #expect(central["global"] != nil && central["site_mean"] != nil && central["sites"] != nil)
        // The values in the document are the ones the simulation computed.
        let g = final["global"] as! [String: Any]
        #expect(abs((g["auc"] as! Double) - result.final.global.auc!) < 1e-12)
        #expect(abs((g["accuracy"] as! Double) - result.final.global.accuracy) < 1e-12)

        // The model file matches the card and the metrics document.
        let (params, card) = try ModelExport.read(from: dir.path("model.safetensors"))
        #expect(params == result.model)
        #expect((json["model"] as! [String: Any])["sha256"] as? String == card.weights.sha256)
        #expect(card.features.count == result.spec.inputCount)

        let csv = try String(contentsOf: dir.path("metrics.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "approach,round,site,count,accuracy,balanced_accuracy,auc,loss,f1,brier")
        #expect(lines.contains { $0.hasPrefix("local,final,MEAN,") })
        #expect(lines.contains { $0.hasPrefix("centralized,final,ALL,") })
        // Per round: ALL, MEAN and 6 sites; final federated the same; local MEAN and 6 sites; centralized 8.
        let expectedRows = 1 + 3 * 8 + 8 + 7 + 8
        #expect(lines.count == expectedRows)

        let html = try String(contentsOf: dir.path("report.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        for site in result.sites { #expect(html.contains(site.name)) }
    }
}
