import ArgumentParser
import CohortAnalytics
import CohortData
import Foundation

/// `cohort analytics psi`: a private set intersection between sites, every party and the relay in one process.
struct AnalyticsPSICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psi",
        abstract: "Count the identifiers two or more sites share, by ECDH private set intersection (in simulation).",
        discussion: """
            Each party hashes its normalised identifiers to P-256 and blinds them with a secret key; the sets pass \
            through the coordinator's relay, which sees only sealed payloads and the cardinality the receiver \
            releases. Identifiers come from --ids SITE=FILE (one per line, or a CSV column with --column) or from \
            the id column of every site of --data DIR. Writes psi.json (and, with --members, SITE-members.txt) to --out.
            """)

    @Option(name: .customLong("ids"), help: "A party's identifiers: SITE=FILE (repeat for every party).")
    var ids: [String] = []

    @Option(help: "Federation directory: every site is a party, with the schema's id column (or --column).")
    var data: String?

    @Option(help: "Schema YAML for --data (default: DIR/schema.yaml).")
    var schema: String?

    @Option(help: "Identifier column: in --ids CSV files (with a header), or in --data sites.")
    var column: String?

    @Option(help: "Parties to include, comma-separated (default: every site).")
    var parties: String?

    @Option(help: "The party that intersects the blinded sets and releases the count (default: the first by name).")
    var receiver: String?

    @Flag(help: "Also tell every party which of its identifiers are shared (every party's policy must allow it).")
    var members = false

    @Option(help: "Blinded sets travel sealed (AES-GCM between parties) or plain (two parties only).")
    var channel: String = "sealed"

    @Option(help: "Output directory.")
    var out: String = "cohort-psi"

    func run() async throws {
        try await reportingErrors {
            guard let channel = PSIParameters.Channel(rawValue: self.channel) else {
                throw ValidationError("--channel must be sealed or plain")
            }
            var sets = try self.identifiers()
            if let list = self.parties {
                let wanted = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                for name in wanted where sets[name] == nil {
                    throw ValidationError("--parties names '\(name)', which is not a site; sites: \(sets.keys.sorted { NaturalOrder.less($0, $1) }.joined(separator: ", "))")
                }
                sets = sets.filter { wanted.contains($0.key) }
            }
            guard sets.count >= 2 else {
                throw ValidationError("a private set intersection needs at least two parties; give --ids SITE=FILE twice or --data DIR")
            }
            let names = sets.keys.sorted()
            let params = PSIParameters(session: UUID().uuidString, parties: names, receiver: self.receiver,
                                       output: self.members ? .members : .cardinality, channel: channel)
            let run = try PrivateSetIntersection.run(
                parameters: params, identifiers: sets,
                policies: Dictionary(uniqueKeysWithValues: names.map { ($0, PSIPolicy(allowMembers: self.members)) }))
            let summary = PSISummary(parameters: params, sizes: sets.mapValues(\.count), run: run)
            let dir = URL(fileURLWithPath: self.out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(summary).write(to: dir.appendingPathComponent("psi.json"))
            var written = ["\(self.out)/psi.json"]
            if self.members {
                for name in names {
                    let file = "\(name)-members.txt"
                    try Data(((run.results[name]?.members ?? []).joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent(file))
                    written.append("\(self.out)/\(file)")
                }
            }
            Console.line(summary.text)
            Console.line("Wrote \(written.joined(separator: ", "))")
        }
    }

    /// Every party's identifiers, by site name.
    func identifiers() throws -> [String: [String]] {
        var out = [String: [String]]()
        for spec in self.ids {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--ids takes SITE=FILE, not '\(spec)'") }
            guard out[parts[0]] == nil else { throw ValidationError("--ids names site '\(parts[0])' twice") }
            out[parts[0]] = try Self.read(URL(fileURLWithPath: parts[1]), column: self.column)
        }
        if let data = self.data {
            let federation = try FederationLoader.directory(URL(fileURLWithPath: data), options: .init(
                schemaURL: self.schema.map { URL(fileURLWithPath: $0) }, policy: .rejectRows(maximumFraction: 0.05)))
            for site in federation.sites {
                out[site.name] = try PSIIdentifiers.of(site, schema: federation.schema, column: self.column)
            }
        }
        guard !out.isEmpty else { throw ValidationError("give the parties' identifiers with --ids SITE=FILE (twice or more) or --data DIR") }
        return out
    }

    /// Identifiers from a file: one per line, or the column `column` of a CSV file with a header.
    static func read(_ url: URL, column: String?) throws -> [String] {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw DataError(.io, file: url.path, "cannot read the identifier file: \(error.localizedDescription)")
        }
        guard let column else {
            return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
                .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        let records = try CSVParser.parse(bytes, file: url.path)
        guard let header = records.first, let i = header.fields.firstIndex(of: column) else {
            throw DataError(.missingColumn, file: url.path, line: 1, column: column, "the header has no such column",
                            hint: "header columns: \(records.first?.fields.joined(separator: ", ") ?? "none")")
        }
        return records.dropFirst().compactMap { r in i < r.fields.count ? r.fields[i] : nil }
    }
}

/// What a PSI run released and what the coordinator relayed.
struct PSISummary: Codable {
    var session: String
    var parties: [String]
    var receiver: String
    var output: String
    var channel: String
    /// Identifiers each party supplied (before normalisation and de-duplication; known only to that party).
    var setSizes: [String: Int]
    /// The cardinality each party learned.
    var learned: [String: Int]
    /// Members each party learned (output members only): counts here, the identifiers in SITE-members.txt.
    var members: [String: Int]?
    /// What the coordinator saw.
    var coordinator: PSIRelayReport

    init(parameters p: PSIParameters, sizes: [String: Int], run: PrivateSetIntersection.Run) {
        self.session = p.session
        self.parties = p.parties
        self.receiver = p.receiver
        self.output = p.output.rawValue
        self.channel = p.channel.rawValue
        self.setSizes = sizes
        self.learned = run.results.mapValues(\.cardinality)
        self.members = p.output == .members ? run.results.mapValues { $0.members?.count ?? 0 } : nil
        self.coordinator = PSIRelayReport(parameters: p, transcript: run.transcript, released: run.released)
    }

    var text: String {
        var lines = ["Private set intersection of \(self.parties.count) parties (receiver \(self.receiver), \(self.channel) channel, output \(self.output))"]
        for p in self.parties {
            lines.append("  " + Console.pad(p, 20) + Console.pad("\(self.setSizes[p] ?? 0) identifiers", 20, right: true)
                         + "   learned: \(self.learned[p] ?? 0) in common" + (self.members.map { "; \($0[p] ?? 0) members listed" } ?? ""))
        }
        lines.append(self.coordinator.relayLine)
        return lines.joined(separator: "\n")
    }
}
