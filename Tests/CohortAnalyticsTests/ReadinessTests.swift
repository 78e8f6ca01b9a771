import CohortAnalytics
import CohortData
import CohortTensor
import CohortTesting
import Foundation
import Testing

@Suite("Data readiness and federated standardisation")
struct ReadinessTests {
    @Test("Fed-Heart-Disease: Switzerland's zero cholesterol and the prevalence gap are flagged")
    func heartDiseaseFlags() async throws {
        guard let fed = try heartDisease() else { return }
        let readiness = try await ReadinessAnalyzer.run(federation: fed)
        let swiss = try #require(readiness.site("center2"))
        let chol = swiss.flags(for: "chol")
        #expect(chol.contains { $0.code == "placeholder-value" && $0.severity == .critical }, "\(chol)")
        #expect(swiss.flags.contains { $0.code == "label-prevalence-gap" && $0.severity == .critical })
        #expect(readiness.flags.contains { $0.code == "prevalence-range" })
        #expect(readiness.flags.contains { $0.code == "placeholder-value" && $0.column == "chol" && $0.message.contains("center2") })
        // Cleveland's cholesterol is unremarkable.
        #expect(!(readiness.site("center0")?.flags(for: "chol").contains { $0.code == "placeholder-value" } ?? true))
        // Renderings.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = try ReadinessRenderer.write(readiness, to: dir.url)
        #expect(files.count == 3 + fed.sites.count)
        let html = try String(contentsOf: dir.path("site-center2.html"), encoding: .utf8)
        #expect(html.contains("placeholder-value") && html.contains("<svg") && !html.contains("<script") && !html.contains("http"))
        let text = ReadinessRenderer.text(readiness)
        #expect(text.contains("center2") && text.contains("[critical]"))
        let decoded = try JSONDecoder().decode(FederationReadiness.self, from: try ReadinessRenderer.json(readiness))
        #expect(decoded == readiness)
    }

    @Test("The raw UCI files flag Switzerland's cholesterol too (through a harmonisation mapping)")
    func rawUCI() async throws {
        guard let dir = SharedData.directory?.appendingPathComponent("heart-disease"),
              FileManager.default.fileExists(atPath: dir.appendingPathComponent("processed.switzerland.data").path) else {
            print("skipping: raw UCI heart-disease files not found")
            return
        }
        let schema = try DatasetSchema.parse(yaml: """
            columns:
              - {name: age, type: numeric}
              - {name: sex, type: binary, categories: [female, male]}
              - {name: trestbps, type: numeric}
              - {name: chol, type: numeric, unit: mg/dL}
              - {name: thalach, type: numeric}
              - {name: disease, type: binary, role: label}
            """, source: "uci")
        let header = "age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,num\n"
        let mapping = SchemaMapping(recode: ["sex": ["0": "female", "1": "male", "0.0": "female", "1.0": "male"]], drop: ["cp", "fbs", "restecg", "exang", "oldpeak", "slope", "ca", "thal"])
        var sites = [SiteData]()
        for name in ["cleveland", "hungarian", "switzerland", "va"] {
            let raw = try String(contentsOf: dir.appendingPathComponent("processed.\(name).data"), encoding: .utf8)
            // Outcome: num > 0.
            let lines = raw.split(whereSeparator: \.isNewline).map { line -> String in
                var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                f[13] = (Double(f[13]) ?? 0) > 0 ? "1" : "0"
                return f.joined(separator: ",")
            }
            var m = mapping
            m.rename = ["num": "disease"]
            let mapped = try SchemaMapper.apply(m, to: Array((header + lines.joined(separator: "\n")).utf8), schema: schema, source: name)
            let (table, report) = try TableLoader.load(bytes: mapped.bytes, source: name, schema: schema, policy: .rejectRows(maximumFraction: 0.5))
            sites.append(SiteData(name: name, train: table, test: table.rows([]), trainReport: report, testReport: nil, testWasSplit: false, note: nil))
        }
        let fed = Federation(schema: schema, schemaSource: "test", schemaNotes: [], sites: sites, source: "UCI")
        let readiness = try await ReadinessAnalyzer.run(federation: fed)
        let swiss = try #require(readiness.site("switzerland"))
        #expect(swiss.flags(for: "chol").contains { $0.code == "placeholder-value" && $0.severity == .critical })
        #expect(swiss.flags.contains { $0.code == "label-prevalence-gap" })
    }

    @Test("Global standardisation statistics equal the pooled TableStatistics and drive the same encoder")
    func standardization() async throws {
        let fed = try FederationLoader.synthetic(seed: 3, hospitals: 8)
        let result = try await FederatedStandardization.compute(federation: fed, policy: { _ in openPolicy })
        let pooled = TableStatistics.merged(fed.siteStatistics)!
        #expect(result.incomplete.isEmpty)
        #expect(result.statistics.rowCount == pooled.rowCount)
        for (a, b) in zip(result.statistics.columns, pooled.columns) {
            #expect(a.name == b.name)
            #expect(a.count == b.count && a.missing == b.missing && a.categoryCounts == b.categoryCounts, "\(a.name)")
            #expect(close(a.mean, b.mean, relative: 1e-12), "\(a.name) mean")
            #expect(close(a.standardDeviation, b.standardDeviation, relative: 1e-10), "\(a.name) sd")
        }
        let ours = FeatureEncoder(schema: fed.schema, statistics: result.statistics, standardize: true)
        let reference = FeatureEncoder(schema: fed.schema, statistics: pooled, standardize: true)
        #expect(ours.featureCount == reference.featureCount)
        let x = ours.encode(fed.sites[0].train).features, y = reference.encode(fed.sites[0].train).features
        #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test("Shift metrics")
    func shiftMetrics() {
        let a = Moments(count: 100, mean: 1, m2: 99, sum: 100), b = Moments(count: 100, mean: 0, m2: 99, sum: 0)
        #expect(close(ShiftMetrics.smd(a, b), 1))
        #expect(ShiftMetrics.psi([10, 10], [10, 10]) == 0)
        let p = ShiftMetrics.psi([90, 10], [50, 50])!
        #expect(close(p, (0.9 - 0.5) * log(0.9 / 0.5) + (0.1 - 0.5) * log(0.1 / 0.5), relative: 1e-12))
    }
}
