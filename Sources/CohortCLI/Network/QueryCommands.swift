import ArgumentParser
import CohortAnalytics
import CohortData
import CohortWire
import Foundation

/// `cohort query`: federated statistics over the network (admin certificate).
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run federated statistics queries at the connected sites (needs an admin kit).",
        subcommands: [Submit.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run query.yaml at the sites and print the merged statistics (JSON and CSV with --out).",
            discussion: "Each site answers under its own policy (policy.analytics in site.yaml): cells below its minimum count are suppressed, noise is charged to its privacy ledger. The format of query.yaml is in docs/analytics.md.")
        @Argument(help: "query.yaml") var file: String
        @Option(help: "Admin kit.") var kit: String
        @Option(help: "Schema YAML the sites read their data with (default: schema.yaml beside the query).") var schema: String?
        @Option(help: "Comma-separated sites (default: every connected site).") var sites: String?
        @Option(help: "Seconds each round of site tasks may take.") var timeout: Int = 120
        @Option(help: "Directory for statistics.json and statistics.csv (default: JSON on standard output).") var out: String?

        func run() async throws {
            let queryURL = URL(fileURLWithPath: self.file)
            let schemaURL = self.schema.map { URL(fileURLWithPath: $0) } ?? queryURL.deletingLastPathComponent().appendingPathComponent("schema.yaml")
            let queryYAML: String
            let schemaYAML: String
            do {
                queryYAML = try String(contentsOf: queryURL, encoding: .utf8)
                schemaYAML = try String(contentsOf: schemaURL, encoding: .utf8)
                // Checked here too, so a typo is reported with its line before anything reaches the sites.
                let query = try StatisticsQuery.parse(yaml: queryYAML, source: self.file)
                _ = try QueryPlanner.preliminaryQuery(for: query, schema: try DatasetSchema.parse(yaml: schemaYAML, source: schemaURL.path))
            } catch {
                Console.error("\(error)")
                throw ExitCode(2)
            }
            var request = Cohort_V1_QueryRequest()
            request.queryYaml = queryYAML
            request.schemaYaml = schemaYAML
            request.sites = self.sites?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            request.timeoutSeconds = UInt32(max(1, self.timeout))
            let finalRequest = request
            let response = try await AdminConnection.with(kit: self.kit, timeout: .seconds(Int64(self.timeout) * 3)) { try await $0.query(finalRequest) }
            for f in response.failures { Console.error("\(f.site): \(f.code): \(f.message)") }
            if let out = self.out {
                let dir = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try response.resultJson.write(to: dir.appendingPathComponent("statistics.json"))
                try Data(response.csv.utf8).write(to: dir.appendingPathComponent("statistics.csv"))
                print("\(response.queryID): wrote \(dir.appendingPathComponent("statistics.json").path) and statistics.csv")
            } else {
                print(String(decoding: response.resultJson, as: UTF8.self))
            }
        }
    }
}
