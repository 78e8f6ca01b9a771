import CohortAnalytics
import CohortTesting
import Crypto
import Foundation
import Testing

@Suite("Private set intersection over the network (real processes)", .serialized)
struct PSINetworkTests {
    /// A site's identifiers straight from its CSV files (the first column, patient_id), normalised.
    static func identifiers(_ f: LoopbackFederation, _ site: String) throws -> Set<String> {
        var ids = Set<String>()
        for part in ["train", "test"] {
            let text = try String(contentsOf: f.dir.path("data/\(site)_\(part).csv"), encoding: .utf8)
            for line in text.split(separator: "\n").dropFirst() {
                ids.insert(IdentifierNormalizer.normalize(String(line.prefix { $0 != "," })))
            }
        }
        return ids
    }

    @Test("cohort query psi: two site processes learn exactly how many patients they share; the coordinator's whole view holds no hash of an identifier; policies that forbid PSI or members refuse, saying so",
          .timeLimit(.minutes(5)))
    func intersectionOverNetwork() async throws {
        let f = try await LoopbackFederation(sites: 3)
        defer { f.stopAll() }
        let (a, b, c) = (f.sites[0], f.sites[1], f.sites[2])
        // The generator numbers each hospital's patients from 1, so one list would contain the other; give b some
        // patients a does not have, so the intersection is neither empty nor either whole set.
        let bTrain = f.dir.path("data/\(b)_train.csv")
        var lines = try String(contentsOf: bTrain, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for i in stride(from: 1, to: lines.count, by: 3) where !lines[i].isEmpty {
            let id = lines[i].prefix { $0 != "," }
            lines[i] = "\(Int(id)! + 500_000)" + lines[i].dropFirst(id.count)
        }
        try Data(lines.joined(separator: "\n").utf8).write(to: bTrain)
        try f.setSitePolicy("allowed_tasks", "[train, evaluate, psi]", sites: [a, b])
        try f.setSitePolicy("psi", "{allow_members: true}", sites: [a])
        _ = try await f.startCoordinator()
        for s in f.sites { _ = try f.startSite(s) }
        try await f.waitForSites(f.sites)

        let r = try f.run(["query", "psi", "--kit", f.kit("admin"), "--sites", "\(a),\(b)", "--schema", "data/schema.yaml", "--out", "psi1"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(PSIRelayReport.self, from: Data(contentsOf: f.dir.path("psi1/psi.json")))
        let truthA = try Self.identifiers(f, a), truthB = try Self.identifiers(f, b)
        let expected = truthA.intersection(truthB).count
        #expect(expected > 0 && expected < min(truthA.count, truthB.count), "the data should overlap partly: \(expected)")
        #expect(report.releasedCardinality == expected)
        #expect(r.stdout.contains("\(expected) identifiers in common"))
        #expect(report.channel == "sealed" && report.messagesRelayed >= 4)

        // The coordinator's whole view of the run: every relayed message, as it arrived.
        let transcript = try Data(contentsOf: f.dir.path("coordinator-state/psi/\(report.session).jsonl"))
        #expect(transcript.split(separator: 0x0A).count == report.messagesRelayed)
        let parameters = PSIParameters(session: report.session, parties: [a, b])
        var windows = Set<Data>()  // every 32 bytes the coordinator relayed, at every offset of every payload
        for line in transcript.split(separator: 0x0A) {
            let message = try JSONDecoder().decode(PSIMessage.self, from: Data(line))
            let payloads: [Data] = switch message.body {
            case .hello(let k): [k]
            case .blinded(_, _, let p): [p]
            case .membership(let x, let y): [x, y]
            case .cardinality: []
            }
            for p in payloads.map({ [UInt8]($0) }) where p.count >= 32 {
                for off in 0...(p.count - 32) { windows.insert(Data(p[off..<(off + 32)])) }
            }
        }
        #expect(windows.count > truthA.count)
        var forbidden = Set<Data>()
        for id in truthA.union(truthB) {
            forbidden.insert(parameters.hashedPoint(of: id))
            forbidden.insert(Data(SHA256.hash(data: Data(id.utf8))))
        }
        #expect(forbidden.count == 2 * truthA.union(truthB).count)
        #expect(windows.isDisjoint(with: forbidden), "the coordinator relayed a hash, or H(id), of a known identifier")
        // Each site logged what it sent; the identifiers themselves never left.
        _ = try f.run(["audit", "export", "--state", "state-\(a)", "--egress", "--out", "egress.jsonl"])
        let egress = try String(contentsOf: f.dir.path("egress.jsonl"), encoding: .utf8)
        #expect(egress.contains("egress.psi.hello") && egress.contains("egress.psi.blinded"))

        // Members need every party's consent: b's policy allows counts only.
        let members = try CohortBinary.run(["query", "psi", "--kit", f.kit("admin"), "--sites", "\(a),\(b)", "--schema", "data/schema.yaml", "--members"],
                                           in: f.dir.url)
        #expect(members.status != 0)
        #expect(members.stderr.contains(b) && members.stderr.contains("does not allow revealing which identifiers are shared"), "\(members.stderr)")
        // A site whose policy does not list psi refuses.
        let refused = try CohortBinary.run(["query", "psi", "--kit", f.kit("admin"), "--sites", "\(a),\(c)", "--schema", "data/schema.yaml"],
                                           in: f.dir.url)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(c) && refused.stderr.contains("does not allow private set intersections"), "\(refused.stderr)")
        // The failed runs were cancelled at the parties that had started, so a is free at once for the next run.
        let again = try f.run(["query", "psi", "--kit", f.kit("admin"), "--sites", "\(a),\(b)", "--schema", "data/schema.yaml", "--timeout", "30"])
        #expect(again.stdout.contains("\(expected) identifiers in common"), "\(again.stdout)\(again.stderr)")
    }
}
