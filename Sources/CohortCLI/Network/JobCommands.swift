import ArgumentParser
import CohortModel
import CohortPKI
import CohortRuntime
import CohortStrategy
import CohortWire
import Foundation

/// `cohort job`: submit and follow jobs (admin certificate).
struct Job: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit, list, follow, cancel and download jobs (needs an admin kit).",
        subcommands: [Submit.self, List.self, Status.self, Cancel.self, Download.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit job.yaml; prints the job id.")
        @Argument(help: "job.yaml") var file: String
        @Option(help: "Admin kit.") var kit: String
        @Flag(help: "Wait until the job ends, printing its rounds.") var wait = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let spec: JobSpec
            do { spec = try JobFile.load(URL(fileURLWithPath: self.file)) } catch {
                Console.error("\(error)")
                throw ExitCode(2)
            }
            if spec.personalization != nil {
                // The wire protocol does not carry personalisation yet; a site would silently train the whole model.
                Console.error("\(self.file): personalization: runs in simulation only for now (cohort simulate --personal-layers N --fine-tune-epochs E); remove it to submit the job")
                throw ExitCode(2)
            }
            let info = try await AdminConnection.with(kit: self.kit) { try await $0.submit(spec) }
            if self.json { print(JobPrinting.json(info)) } else { print("Submitted \(info.id) (\(info.name)): \(info.status)") }
            if self.wait { try await JobPrinting.follow(info.id, kit: self.kit) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs.")
        @Option(help: "Admin kit.") var kit: String
        func run() async throws {
            let jobs = try await AdminConnection.with(kit: self.kit) { try await $0.list() }
            print("id        status     rounds   name")
            for j in jobs {
                print("\(j.id)  \(j.status.padding(toLength: 9, withPad: " ", startingAt: 0))  \(String(j.roundsCompleted).leftPad(3))/\(j.rounds)  \(j.name)\(j.message.isEmpty ? "" : "  (\(j.message))")")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job and its rounds.")
        @Argument(help: "Job id.") var id: String
        @Option(help: "Admin kit.") var kit: String
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            let d = try await AdminConnection.with(kit: self.kit) { try await $0.detail(self.id) }
            if self.json {
                print(JobPrinting.json(d.info, rounds: d.rounds))
                return
            }
            JobPrinting.printDetail(d)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (a running job stops after its current round).")
        @Argument(help: "Job id.") var id: String
        @Option(help: "Admin kit.") var kit: String
        func run() async throws {
            let info = try await AdminConnection.with(kit: self.kit) { try await $0.cancel(self.id) }
            print("\(info.id): \(info.status)\(info.status == "running" ? " (stops after the current round)" : "")")
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a job's model as safetensors with its model card.")
        @Argument(help: "Job id.") var id: String
        @Option(help: "Admin kit.") var kit: String
        @Option(help: "Output directory.") var out: String = "."
        func run() async throws {
            let (detail, model) = try await AdminConnection.with(kit: self.kit, timeout: .seconds(3600)) { admin in
                (try await admin.detail(self.id), try await admin.download(self.id))
            }
            let spec = try detail.job.jobSpec()
            let modelSpec = try spec.modelSpec()
            guard model.values.count == modelSpec.layout.totalCount else {
                Console.error("the downloaded model has \(model.values.count) values; job \(self.id)'s model has \(modelSpec.layout.totalCount)")
                throw ExitCode(1)
            }
            let params = ModelParameters(layout: modelSpec.layout, flat: model.values)
            let dir = URL(fileURLWithPath: self.out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let url = dir.appendingPathComponent("model.safetensors")
            let card = JobPrinting.card(spec: spec, modelSpec: modelSpec, detail: detail)
            let sha = try ModelExport.write(params, card: card, to: url)
            print("Wrote \(url.path) (\(params.count) parameters, file SHA-256 \(sha.prefix(16))...; model vector SHA-256 \(model.sha256.prefix(16))...) and \(ModelExport.cardURL(for: url).lastPathComponent)")
        }
    }
}

/// `cohort status`: the coordinator's view of sites and jobs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show connected sites (with certificate expiry) and running jobs.")
    @Option(help: "Admin kit.") var kit: String
    func run() async throws {
        let s = try await AdminConnection.with(kit: self.kit) { try await $0.status() }
        print("coordinator \(s.coordinator) (cohort \(s.versions.software), protocol \(s.versions.protocol))")
        print("sites:")
        let now = Date()
        for site in s.sites {
            let expiry = Date(timeIntervalSince1970: Double(site.certificateNotAfterMs) / 1000)
            let days = Int(expiry.timeIntervalSince(now) / 86400)
            let seen = Date(timeIntervalSince1970: Double(site.lastSeenMs) / 1000)
            print("  \(site.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(site.connected ? "connected   " : "disconnected") last seen \(ISO8601DateFormatter().string(from: seen))  certificate expires in \(days) days\(site.state.isEmpty ? "" : "  [\(site.state)]")")
        }
        print("jobs:")
        if s.jobs.isEmpty { print("  none running or queued") }
        for j in s.jobs { print("  \(j.id) \(j.status) round \(j.roundsCompleted)/\(j.rounds) \(j.name)") }
    }
}

enum JobPrinting {
    static func json(_ info: Cohort_V1_JobInfo, rounds: [Cohort_V1_RoundInfo]? = nil) -> String {
        var object: [String: Any] = [
            "id": info.id, "name": info.name, "status": info.status, "rounds_completed": Int(info.roundsCompleted),
            "rounds": Int(info.rounds), "message": info.message, "final_model_sha256": info.finalModelSha256,
            "submitted_by": info.submittedBy,
        ]
        if let rounds {
            object["rounds_detail"] = rounds.map { r -> [String: Any] in
                ["round": Int(r.round), "participants": r.participants, "aggregated": r.aggregated,
                 "failures": r.failures.map { ["site": $0.site, "code": $0.code, "message": $0.message] }]
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func printDetail(_ d: Cohort_V1_JobDetail) {
        let i = d.info
        print("\(i.id) \(i.name): \(i.status), \(i.roundsCompleted)/\(i.rounds) rounds, submitted by \(i.submittedBy)")
        if !i.message.isEmpty { print("  \(i.message)") }
        for r in d.rounds {
            let auc = r.global.hasAuc ? String(format: "%.4f", r.global.auc) : "-"
            print("  round \(r.round): \(r.aggregated.count)/\(r.participants.count) sites, auc \(auc), accuracy \(String(format: "%.4f", r.global.accuracy)), model \(r.modelSha256.prefix(12))")
            for f in r.failures { print("    \(f.site): \(f.code): \(f.message)") }
        }
        if !i.finalModelSha256.isEmpty { print("  final model \(i.finalModelSha256)") }
    }

    static func follow(_ id: String, kit: String) async throws {
        var shown = 0
        while true {
            let d = try await AdminConnection.with(kit: kit) { try await $0.detail(id) }
            for r in d.rounds where Int(r.round) > shown {
                let auc = r.global.hasAuc ? String(format: "%.4f", r.global.auc) : "-"
                print("  round \(r.round): \(r.aggregated.count)/\(r.participants.count) sites, auc \(auc)")
                shown = Int(r.round)
            }
            if ["finished", "failed", "cancelled"].contains(d.info.status) {
                print("\(id): \(d.info.status)\(d.info.message.isEmpty ? "" : ": \(d.info.message)")")
                if d.info.status != "finished" { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    static func card(spec: JobSpec, modelSpec: ModelSpec, detail: Cohort_V1_JobDetail) -> ModelCard {
        let schema = try? spec.schema()
        // With global standardisation every site encoded with the federation's statistics: the card records them.
        let global = detail.standardizationJson.isEmpty ? nil : try? WireJSON.decoder().decode(TableStatistics.self, from: detail.standardizationJson)
        let encoder = schema.map { s in
            global.map { FeatureEncoder(schema: s, statistics: $0, standardize: true).features } ?? FeatureEncoderShim.features(s)
        } ?? []
        let label = schema?.labelColumn.map { ModelCard.Label(column: $0.name, classes: $0.levels) } ?? ModelCard.Label(column: "", classes: [])
        var sites = [String: Int]()
        for s in detail.rounds.last?.participants ?? [] { sites[s] = 0 }
        return ModelCard(
            model: modelSpec, label: label, features: encoder, schema: nil,
            training: .init(version: CohortVersion.software, created: ISO8601DateFormatter().string(from: Date()),
                            strategy: spec.strategy.description, rounds: Int(detail.info.roundsCompleted), seed: spec.seed,
                            sites: sites, localTraining: spec.training, standardize: spec.standardize.rawValue,
                            dataSource: "federated job \(detail.info.id) (\(detail.info.name))"),
            weights: .init(file: "model.safetensors", bytes: 0, sha256: "", parameterCount: modelSpec.layout.totalCount),
            metrics: detail.rounds.last.map { ["federated_all_test_rows": $0.global.metrics] } ?? [:])
    }
}

import CohortData

enum FeatureEncoderShim {
    /// Feature names and encodings of a schema when standardisation happens per site (no statistics are recorded).
    static func features(_ schema: DatasetSchema) -> [ModelCard.Feature] {
        FeatureEncoder(schema: schema, statistics: TableStatistics(emptyFor: schema), standardize: false).features.map { f in
            var g = f
            g.imputedValue = nil
            return g
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { self.count >= n ? self : String(repeating: " ", count: n - self.count) + self }
}
