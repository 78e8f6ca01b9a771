import ArgumentParser
import CohortAnalytics
import CohortData
import CohortRuntime
import Foundation

/// `cohort analytics`: federated statistics and data readiness, in simulation.
struct Analytics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Federated statistics and data readiness without moving records (in simulation).",
        discussion: """
            `cohort analytics --data DIR --query query.yaml` runs a statistics query at every site of a federation \
            directory (default: the built-in synthetic network) and merges what the sites release. \
            `cohort analytics readiness --data DIR` checks every site's data against the federation. \
            `cohort analytics psi` counts the patients two or more sites have in common without revealing them. \
            See docs/analytics.md for the query format and the disclosure rules.
            """,
        subcommands: [AnalyticsQueryCommand.self, AnalyticsReadinessCommand.self, AnalyticsPSICommand.self],
        defaultSubcommand: AnalyticsQueryCommand.self)
}

/// Options shared by the analytics commands: where the data is and what each site's policy is.
struct AnalyticsDataOptions: ParsableArguments {
    @Option(help: "Federation directory (default: the built-in synthetic hospital network).")
    var data: String?

    @Option(help: "Schema YAML (default: DIR/schema.yaml, else inferred).")
    var schema: String?

    @Option(help: "Number of synthetic hospitals (built-in data only).")
    var sites: Int = 47

    @Option(help: "Every site's analytics policy (YAML; default: k = 5, no min/max, noise optional).")
    var policy: String?

    @Option(name: .customLong("min-cell-count"), help: "Every site's minimum cell count k (overrides the policy's).")
    var minimumCellCount: Int?

    @Option(name: .customLong("on-invalid-row"), help: "What to do with an invalid row: fail or reject (up to 5%).")
    var onInvalidRow: String?

    @Option(name: .customLong("mapping"), help: ArgumentHelp(
        "Schema mapping YAML applied to a site's raw files before validation: SITE=FILE, or FILE for every site (repeatable).",
        discussion: "DIR/<site>.mapping.yaml and DIR/<site>/mapping.yaml are found without this option."))
    var mappings: [String] = []

    func federation(defaultPolicy: ValidationPolicy) throws -> Federation {
        var validation = defaultPolicy
        switch self.onInvalidRow {
        case nil: break
        case "fail": validation = .strict
        case "reject": validation = .rejectRows(maximumFraction: 0.05)
        default: throw ValidationError("--on-invalid-row must be fail or reject")
        }
        if let data = self.data {
            var explicit = [String: URL]()
            for m in self.mappings {
                let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
                explicit[parts.count == 2 ? parts[0] : "*"] = URL(fileURLWithPath: parts.last!)
            }
            let (federation, applied) = try HarmonizedFederation.load(URL(fileURLWithPath: data), mappings: explicit, options: .init(
                schemaURL: self.schema.map { URL(fileURLWithPath: $0) }, policy: validation))
            for (site, url) in applied.sorted(by: { NaturalOrder.less($0.key, $1.key) }) {
                Console.note("\(site): mapped by \(url.path)")
            }
            return federation
        }
        guard self.schema == nil, self.mappings.isEmpty else {
            throw ValidationError("--schema and --mapping apply to --data; the built-in network has its own schema")
        }
        return try FederationLoader.synthetic(seed: 42, hospitals: self.sites, policy: validation)
    }

    func sitePolicy() throws -> SiteAnalyticsPolicy {
        var p = try self.policy.map { try SiteAnalyticsPolicy.load(from: URL(fileURLWithPath: $0)) } ?? .standard
        if let k = self.minimumCellCount {
            guard k >= 1 else { throw ValidationError("--min-cell-count must be at least 1") }
            p.minimumCellCount = k
        }
        return p
    }
}

/// Runs a body, turning data and analytics errors into messages and exit code 2.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as DataError {
        Console.error(e.description)
        throw ExitCode(2)
    } catch let e as AnalyticsError {
        Console.error(e.message)
        throw ExitCode(2)
    }
}

struct AnalyticsQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a statistics query at every site and merge the released partial aggregates.",
        discussion: "Writes statistics.json (plan, every site's release, merged result) and statistics.csv (one row per statistic, column, group and site, with a suppressed column) to --out.")

    @OptionGroup var options: AnalyticsDataOptions

    @Option(help: "Query YAML (default: count, mean, std, missing, histogram and quantiles of every numeric feature).")
    var query: String?

    @Option(help: "Output directory.")
    var out: String = "cohort-analytics"

    @Option(help: "Seed the privacy noise (reproducible, protects nothing; default: the OS's secure generator).")
    var seed: UInt64?

    func run() async throws {
        try await reportingErrors {
            let federation = try self.options.federation(defaultPolicy: .strict)
            let policy = try self.options.sitePolicy()
            let query = try self.query.map { try StatisticsQuery.load(from: URL(fileURLWithPath: $0)) }
                ?? StatisticsQuery(statistics: [.count, .mean, .standardDeviation, .missing, .histogram, .quantiles],
                                   quantiles: .init(probabilities: [0.25, 0.5, 0.75]))
            if query.privacy != nil && self.seed != nil { Console.note("note: seeded noise is reproducible and protects nothing; use it for tests only") }
            let clock = ContinuousClock()
            let start = clock.now
            let result = try await FederatedStatistics.run(query, federation: federation, policy: { _ in policy },
                                                           noise: self.seed.map { .seeded($0) } ?? .secure)
            let seconds = (clock.now - start).seconds
            let dir = URL(fileURLWithPath: self.out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: dir.appendingPathComponent("statistics.json"))
            try Data(result.csv.utf8).write(to: dir.appendingPathComponent("statistics.csv"))
            Console.line(AnalyticsSummary.render(result, federation: federation, seconds: seconds))
            Console.line("Wrote \(self.out)/statistics.json, \(self.out)/statistics.csv")
        }
    }
}

struct AnalyticsReadinessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readiness",
        abstract: "Check every site's data against the federation before training.",
        discussion: "Writes readiness.txt, readiness.json, federation.html and one site-<name>.html per site to --out.")

    @OptionGroup var options: AnalyticsDataOptions

    @Option(help: "Output directory.")
    var out: String = "cohort-readiness"

    func run() async throws {
        try await reportingErrors {
            let federation = try self.options.federation(defaultPolicy: .rejectRows(maximumFraction: 0.05))
            let policy = try self.options.sitePolicy()
            let readiness = try await ReadinessAnalyzer.run(federation: federation, policy: { _ in policy })
            let written = try ReadinessRenderer.write(readiness, to: URL(fileURLWithPath: self.out))
            Console.line(ReadinessRenderer.text(readiness))
            Console.line("Wrote \(written.count) files to \(self.out)/ (open federation.html)")
        }
    }
}

/// The console table of a statistics result.
enum AnalyticsSummary {
    static func render(_ r: StatisticsResult, federation: Federation, seconds: Double) -> String {
        let q = r.plan.query
        var lines = ["\(r.sites.count) of \(federation.sites.count) sites answered in \(String(format: "%.2f", seconds)) s; minimum cell count \(r.sites.map(\.minimumCellCount).max() ?? 0)"
                     + (q.filter.map { "; filter: \($0)" } ?? "")]
        for refusal in r.refusals { lines.append("  refused by \(refusal.site): \(refusal.refusal.reason)") }
        if let p = r.sites.first?.privacy {
            lines.append("  privacy spent at each site: epsilon \(p.epsilon), delta \(p.delta) (\(p.summary))")
        }
        let median = q.quantiles.probabilities.contains(0.5) && q.statistics.contains(.quantiles)
        for g in r.federation.groups {
            lines.append("")
            lines.append("group \(g.key): \(Self.n(g.rows)) rows" + (g.excludedSites.isEmpty ? "" : " (withheld by \(Self.sites(g.excludedSites)))"))
            lines.append("  " + Console.pad("column", 24) + Console.pad("n", 10, right: true) + Console.pad("missing", 9, right: true)
                         + Console.pad("mean", 12, right: true) + Console.pad("sd", 11, right: true) + (median ? Console.pad("median (± bound)", 22, right: true) : "")
                         + "  withheld at")
            for c in g.columns {
                var line = "  " + Console.pad(c.column, 24) + Console.pad(Self.n(c.count), 10, right: true) + Console.pad(c.missing.map(Self.n) ?? "-", 9, right: true)
                line += Console.pad(Self.v(c.mean), 12, right: true) + Console.pad(Self.v(c.standardDeviation), 11, right: true)
                if median {
                    let m = c.quantiles?.first { $0.probability == 0.5 }
                    line += Console.pad(m?.value.map { "\(Self.v($0)) ± \(m?.errorBound.map(Self.v) ?? "?")" } ?? "-", 22, right: true)
                }
                line += "  " + (c.excludedSites.isEmpty ? "-" : Self.sites(c.excludedSites))
                lines.append(line)
            }
            if let cov = g.covariance, q.statistics.contains(.correlation) {
                lines.append("  correlation (\(Self.n(cov.count)) complete cases\(cov.excludedSites.isEmpty ? "" : ", withheld by \(Self.sites(cov.excludedSites))"))")
                let width = max(9, (cov.columns.map(\.count).max() ?? 0) + 1)
                lines.append("  " + Console.pad("", 24) + cov.columns.map { Console.pad($0, width, right: true) }.joined())
                for (i, a) in cov.columns.enumerated() {
                    lines.append("  " + Console.pad(a, 24) + cov.correlation[i].map { Console.pad($0.map { String(format: "%.3f", $0) } ?? "-", width, right: true) }.joined())
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func sites(_ names: [String]) -> String { names.count == 1 ? "1 site" : "\(names.count) sites" }

    static func n(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
    static func v(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        return abs(x) >= 1000 ? String(format: "%.1f", x) : String(format: "%.4g", x)
    }
}
