import ArgumentParser
import CohortAnalytics
import CohortData
import CohortRuntime
import Foundation

/// `cohort bench analytics`: federated statistics over about a million rows, and private set intersection cost.
struct AnalyticsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Federated statistics over ~1M rows at 47 sites against a one-pass sum of the same columns; PSI cost.")

    @Option(help: "Rows in total (the synthetic network's patients, repeated).") var rows: Int = 1_000_000
    @Option(help: "Sites (sized like the synthetic hospitals).") var sites: Int = 47
    @Option(help: "Timed repetitions (best is kept).") var repeats: Int = 3
    @Option(help: "PSI set sizes per party, comma-separated (empty: skip).") var psi: String = "10000,100000"

    func run() async throws {
        print(try await Self.measure(rows: self.rows, sites: self.sites, repeats: self.repeats))
        let sizes = self.psi.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if !sizes.isEmpty { print("\n" + (try Self.measurePSI(sizes: sizes))) }
    }

    /// A federation of `sites` sites holding `rows` rows: the synthetic network's rows repeated, site sizes in the
    /// proportions of its hospitals.
    static func federation(rows: Int, sites: Int) throws -> Federation {
        let base = try FederationLoader.synthetic(seed: 42, hospitals: 47)
        let pooled = Table.concatenate(base.sites.flatMap { [$0.train, $0.test] }, source: "synthetic")!
        let weights = (0..<sites).map { Double(base.sites[$0 % base.sites.count].train.rowCount + base.sites[$0 % base.sites.count].test.rowCount) }
        let total = weights.reduce(0, +)
        var offset = 0
        var out = [SiteData]()
        let empty = pooled.rows([])
        for (i, w) in weights.enumerated() {
            let size = i == sites - 1 ? rows - offset : Int((w / total * Double(rows)).rounded())
            let table = pooled.rows((offset..<(offset + size)).map { $0 % pooled.rowCount })
            offset += size
            let name = String(format: "site-%02d", i + 1)
            var report = ValidationReport(file: name, columns: base.schema.columns.map(\.name))
            report.rowsRead = size
            report.rowsAccepted = size
            out.append(SiteData(name: name, train: table, test: empty, trainReport: report, testReport: nil, testWasSplit: false, note: nil))
        }
        return Federation(schema: base.schema, schemaSource: "built-in", schemaNotes: [], sites: out,
                          source: "synthetic network repeated to \(rows) rows at \(sites) sites")
    }

    static func measure(rows: Int, sites: Int, repeats: Int) async throws -> String {
        let fed = try Self.federation(rows: rows, sites: sites)
        let numeric = fed.schema.featureColumns.filter { $0.type == .numeric }.map(\.name)
        let query = StatisticsQuery(
            statistics: [.count, .mean, .variance, .standardDeviation, .missing, .histogram, .quantiles, .covariance, .correlation],
            columns: numeric, rows: .train)
        let clock = ContinuousClock()
        var best = Double.infinity
        var result: StatisticsResult?
        for _ in 0..<max(1, repeats) {
            let t = clock.now
            result = try await FederatedStatistics.run(query, federation: fed)
            best = min(best, (clock.now - t).seconds)
        }
        var baseline = Double.infinity
        var checksum = 0.0
        for _ in 0..<max(1, repeats) {
            let t = clock.now
            checksum = await Self.sumColumns(fed, numeric)
            baseline = min(baseline, (clock.now - t).seconds)
        }
        let n = Double(fed.sites.reduce(0) { $0 + $1.train.rowCount })
        let r = result!
        func rate(_ s: Double) -> String { String(format: "%.1f M rows/s", n / s / 1e6) }
        return """
            | \(fed.sites.count) sites, \(Int(n)) rows, \(numeric.count) numeric columns | seconds | throughput | ratio to baseline |
            |---|---|---|---|
            | baseline: one pass summing the same columns at every site | \(String(format: "%.3f", baseline)) | \(rate(baseline)) | 1.00 |
            | full query: count, mean, variance, missing, 20-bin histograms, quantiles (1000 fine bins), \(numeric.count)x\(numeric.count) covariance and correlation; disclosure control (k = 5) and merge | \(String(format: "%.3f", best)) | \(rate(best)) | \(String(format: "%.2f", best / baseline)) |
            (\(r.sites.count) sites answered; checksum \(String(format: "%.6g", checksum)); \(ProcessInfo.processInfo.activeProcessorCount) cores)
            """
    }

    /// The baseline: the sum of every numeric column's non-missing values at every site, sites in parallel.
    static func sumColumns(_ fed: Federation, _ columns: [String]) async -> Double {
        let width = ProcessInfo.processInfo.activeProcessorCount
        return await withTaskGroup(of: Double.self) { group in
            var next = 0, total = 0.0
            func add(_ i: Int) {
                let table = fed.sites[i].train
                group.addTask {
                    var s = 0.0
                    for c in columns {
                        guard case .numeric(let v)? = table.values(of: c) else { continue }
                        v.withUnsafeBufferPointer { p in for x in p where !x.isNaN { s += x } }
                    }
                    return s
                }
            }
            while next < min(width, fed.sites.count) {
                add(next)
                next += 1
            }
            for await s in group {
                total += s
                if next < fed.sites.count {
                    add(next)
                    next += 1
                }
            }
            return total
        }
    }

    static func measurePSI(sizes: [Int]) throws -> String {
        var lines = ["| identifiers per party (half shared) | channel | seconds | µs per identifier per party | relayed MB | cardinality |",
                     "|---|---|---|---|---|---|"]
        let clock = ContinuousClock()
        for n in sizes {
            let a = (0..<n).map { "MRN-\($0)" }
            let b = ((n / 2)..<(n + n / 2)).map { "mrn \($0)" }
            for channel in [PSIParameters.Channel.sealed] {
                let params = PSIParameters(session: UUID().uuidString, parties: ["site-a", "site-b"], channel: channel)
                let t = clock.now
                let run = try PrivateSetIntersection.run(parameters: params, identifiers: ["site-a": a, "site-b": b])
                let s = (clock.now - t).seconds
                let bytes = run.transcript.reduce(0) { $0 + $1.payloadSize }
                lines.append("| \(n) | \(channel.rawValue) | \(String(format: "%.2f", s)) | \(String(format: "%.0f", s / Double(n) * 1e6)) | \(String(format: "%.1f", Double(bytes) / 1e6)) | \(run.released.map(String.init) ?? "-") (expected \(n - n / 2)) |")
            }
        }
        return lines.joined(separator: "\n") + "\n(two parties on one machine: each party hashes and blinds its own set, then blinds the other's; \(ProcessInfo.processInfo.activeProcessorCount) cores)"
    }
}
