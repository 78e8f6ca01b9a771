import ArgumentParser
import CohortAnalytics
import CohortData
import CohortWire
import Foundation

/// `cohort query`: federated statistics over the network (admin certificate).
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run federated statistics queries and private set intersections at the connected sites (needs an admin kit).",
        subcommands: [Submit.self, PSI.self])

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

    struct PSI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "psi",
            abstract: "Count the identifiers two or more sites share, by ECDH private set intersection over the network.",
            discussion: """
                Each site reads its identifiers (the schema's id column, or --column) from its own data, hashes them to \
                P-256 and blinds them with a secret key; blinded sets travel sealed between the sites through the \
                coordinator, which relays them without opening them and learns only the count the receiver releases. \
                Every site's policy must allow psi tasks (and psi.allow_members for --members, whose members stay at the sites).
                """)
        @Option(help: "Admin kit.") var kit: String
        @Option(help: "Comma-separated parties (two or more sites).") var sites: String
        @Option(help: "Schema YAML the sites read their data with.") var schema: String
        @Option(help: "Identifier column (default: the schema's id column).") var column: String?
        @Option(help: "The party that intersects and releases the count (default: the first by name).") var receiver: String?
        @Flag(help: "Also tell each party which of its identifiers are shared (written at the sites).") var members = false
        @Option(help: "Blinded sets travel sealed (AES-GCM between sites) or plain (two parties only).") var channel: String = "sealed"
        @Option(help: "Seconds the intersection may take.") var timeout: Int = 120
        @Option(help: "Directory for psi.json (default: the summary only).") var out: String?

        func run() async throws {
            let schemaYAML: String
            do {
                schemaYAML = try String(contentsOf: URL(fileURLWithPath: self.schema), encoding: .utf8)
                _ = try DatasetSchema.parse(yaml: schemaYAML, source: self.schema)
            } catch {
                Console.error("\(error)")
                throw ExitCode(2)
            }
            var request = Cohort_V1_PSIRequest()
            request.sites = self.sites.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            request.receiver = self.receiver ?? ""
            request.members = self.members
            request.column = self.column ?? ""
            request.schemaYaml = schemaYAML
            request.timeoutSeconds = UInt32(max(1, self.timeout))
            request.channel = self.channel
            let finalRequest = request
            let response = try await AdminConnection.with(kit: self.kit, timeout: .seconds(Int64(self.timeout) * 2)) { try await $0.psi(finalRequest) }
            for f in response.failures { Console.error("\(f.site): \(f.code): \(f.message)") }
            let report = try JSONDecoder().decode(PSIRelayReport.self, from: response.reportJson)
            if let out = self.out {
                let dir = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try response.reportJson.write(to: dir.appendingPathComponent("psi.json"))
            }
            guard let n = report.releasedCardinality else {
                Console.error("the intersection did not finish")
                throw ExitCode(1)
            }
            print("\(report.parties.joined(separator: " ∩ ")): \(n) identifiers in common (receiver \(report.receiver), \(report.channel) channel, output \(report.output))")
            print(report.relayLine)
        }
    }
}
