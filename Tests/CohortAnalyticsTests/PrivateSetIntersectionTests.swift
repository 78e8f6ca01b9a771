import CohortAnalytics
import CohortData
import Crypto
import Foundation
import Testing

@Suite("Private set intersection")
struct PrivateSetIntersectionTests {
    /// Two synthetic sites: 300 and 500 patients, 120 in common, written with different formatting.
    static func sites() -> (a: [String], b: [String], shared: Set<String>) {
        let a = (0..<300).map { "MRN-\(100_000 + $0)" }
        let b = (180..<680).map { i in i % 2 == 0 ? "mrn \(100_000 + i)" : " Mrn.\(100_000 + i) " }
        return (a, b, Set((180..<300).map { "mrn\(100_000 + $0)" }))
    }

    @Test("Normalisation folds case and removes separators", arguments: [
        (" MRN-0012 345 ", "mrn0012345"), ("mrn0012345", "mrn0012345"), ("ＭＲＮ００１２３４５", "mrn0012345"),
        ("AB_12.34/5", "ab12345"), ("a+b", "a+b"),
    ])
    func normalisation(_ pair: (String, String)) {
        #expect(IdentifierNormalizer.normalize(pair.0) == pair.1)
    }

    @Test("The cardinality is exact on a known overlap", arguments: [PSIParameters.Channel.plain, .sealed])
    func exactCardinality(_ channel: PSIParameters.Channel) throws {
        let s = Self.sites()
        let params = PSIParameters(session: UUID().uuidString, parties: ["hospital-a", "hospital-b"], channel: channel)
        let run = try PrivateSetIntersection.run(parameters: params, identifiers: ["hospital-a": s.a, "hospital-b": s.b])
        #expect(run.released == 120)
        #expect(run.results["hospital-a"] == PSIResult(cardinality: 120, members: nil))
        #expect(run.results["hospital-b"] == PSIResult(cardinality: 120, members: nil))
    }

    @Test("On two synthetic hospitals the cardinality equals the known overlap of their identifier columns")
    func syntheticHospitals() throws {
        // The generator numbers each hospital's patients 1...n, so two hospitals share min(n1, n2) identifiers.
        let fed = try FederationLoader.synthetic(seed: 21, hospitals: 3)
        var ids = [String: [String]]()
        for site in fed.sites.prefix(2) {
            ids[site.name] = [site.train, site.test].flatMap { t -> [String] in
                if case .text(let v)? = t.values(of: "patient_id") { return v }
                return []
            }
        }
        let sets = ids.values.map(Set.init)
        let expected = sets[0].intersection(sets[1]).count
        #expect(expected == ids.values.map(\.count).min() && expected > 100)
        let params = PSIParameters(session: "synthetic", parties: Array(ids.keys))
        let run = try PrivateSetIntersection.run(parameters: params, identifiers: ids)
        #expect(run.released == expected)
        #expect(run.results.values.allSatisfy { $0.cardinality == expected && $0.members == nil })
    }

    @Test("Three sites learn the size of the common intersection")
    func threeParties() throws {
        let a = (0..<200).map { "id\($0)" }, b = (100..<300).map { "ID-\($0)" }, c = (150..<400).map { "id \($0)" }
        let params = PSIParameters(session: "s3", parties: ["c", "a", "b"], receiver: "b")
        let run = try PrivateSetIntersection.run(parameters: params, identifiers: ["a": a, "b": b, "c": c])
        #expect(run.released == 50)
        #expect(run.results.values.allSatisfy { $0.cardinality == 50 })
        #expect(throws: AnalyticsError.self) { try PSIParameters(session: "s", parties: ["a", "b", "c"], channel: .plain).validate() }
    }

    @Test("Members are revealed only when every policy allows it")
    func members() throws {
        let s = Self.sites()
        let params = PSIParameters(session: "m", parties: ["hospital-a", "hospital-b"], output: .members)
        let run = try PrivateSetIntersection.run(parameters: params, identifiers: ["hospital-a": s.a, "hospital-b": s.b])
        let a = try #require(run.results["hospital-a"]?.members), b = try #require(run.results["hospital-b"]?.members)
        #expect(Set(a.map(IdentifierNormalizer.normalize)) == s.shared)
        #expect(Set(b.map(IdentifierNormalizer.normalize)) == s.shared)
        #expect(Set(a).isSubset(of: Set(s.a)) && Set(b).isSubset(of: Set(s.b)), "each site gets back its own spellings")
        let error = try #require(throws: AnalyticsError.self) {
            try PrivateSetIntersection.run(parameters: params, identifiers: ["hospital-a": s.a, "hospital-b": s.b],
                                           policies: ["hospital-a": PSIPolicy(allowMembers: true), "hospital-b": PSIPolicy(allowMembers: false)])
        }
        #expect(error.message.contains("policy"))
    }

    @Test("The relayed transcript holds no identifier, no hash of one and no H(id)", arguments: [PSIParameters.Channel.plain, .sealed])
    func transcriptLeaksNothing(_ channel: PSIParameters.Channel) throws {
        let s = Self.sites()
        let session = "transcript-\(channel.rawValue)"
        let params = PSIParameters(session: session, parties: ["hospital-a", "hospital-b"], channel: channel)
        let run = try PrivateSetIntersection.run(parameters: params, identifiers: ["hospital-a": s.a, "hospital-b": s.b])
        #expect(run.transcript.count >= 3)
        // Every value an eavesdropper might match against a list of known identifiers.
        var forbidden = Set<Data>()
        var identifiers = [Data]()
        for id in s.a + s.b {
            let n = IdentifierNormalizer.normalize(id)
            for text in [id, n] {
                identifiers.append(Data(text.utf8))
                forbidden.insert(Data(SHA256.hash(data: Data(text.utf8))))
                forbidden.insert(Data(SHA512.hash(data: Data(text.utf8)).prefix(32)))
            }
            forbidden.insert(params.hashedPoint(of: id))
        }
        let encoder = JSONEncoder()
        var points = 0
        for m in run.transcript {
            let wire = try encoder.encode(m)
            for id in identifiers { #expect(wire.range(of: id) == nil, "an identifier appears in a relayed message") }
            let payloads: [Data]
            switch m.body {
            case .blinded(_, _, let p): payloads = [p]
            case .membership(let a, let b): payloads = [a, b]
            case .hello(let k): payloads = [k]
            case .cardinality: payloads = []
            }
            for p in payloads {
                for off in stride(from: 0, to: p.count - p.count % 32, by: 32) {
                    let chunk = p.subdata(in: (p.startIndex + off)..<(p.startIndex + off + 32))
                    points += 1
                    #expect(!forbidden.contains(chunk), "a relayed 32-byte value equals a hash or H(id) of a known identifier")
                }
                // Also at every byte offset (sealed payloads are not aligned).
                for f in forbidden.prefix(200) { #expect(p.range(of: f) == nil) }
            }
        }
        #expect(points >= s.a.count + s.b.count)
    }

    @Test("Mismatched parameters are refused and the message says what differs")
    func parameterMismatch() throws {
        let p1 = PSIParameters(session: "x", parties: ["a", "b"])
        var p2 = p1
        p2.normalization = "lowercase-only"
        var a = try PSIParty(name: "a", identifiers: ["1", "2"], parameters: p1, policy: .init())
        let outbox = a.start()
        var forged = outbox[0]
        forged.parameters = p2
        var b = try PSIParty(name: "b", identifiers: ["2"], parameters: p1, policy: .init())
        let error = try #require(throws: AnalyticsError.self) { try b.receive(forged) }
        #expect(error.code == .parameterMismatch)
        #expect(error.message.contains("normalization") && error.message.contains("lowercase-only"))
        var relay = try PSIRelay(parameters: p1)
        #expect(throws: AnalyticsError.self) { try relay.relay(forged) }
        // A party that does not support the suite refuses to start.
        var p3 = p1
        p3.suite = "RISTRETTO255-v9"
        let e3 = try #require(throws: AnalyticsError.self) { try PSIParty(name: "a", identifiers: [], parameters: p3, policy: .init()) }
        #expect(e3.message.contains("RISTRETTO255-v9"))
    }

    @Test("Out-of-turn and tampered messages are refused")
    func protocolViolations() throws {
        let p = PSIParameters(session: "v", parties: ["a", "b"])
        var a = try PSIParty(name: "a", identifiers: ["1"], parameters: p, policy: .init())
        var b = try PSIParty(name: "b", identifiers: ["1"], parameters: p, policy: .init())
        let helloA = a.start()[0]
        let helloB = b.start()[0]
        let setB = try a.receive(helloB)
        #expect(setB.count == 1)
        _ = try b.receive(helloA)
        guard case .blinded(let owner, let keys, var payload) = setB[0].body else { Issue.record("expected a blinded set"); return }
        payload[payload.startIndex] ^= 1
        var tampered = setB[0]
        tampered.body = .blinded(owner: owner, keys: keys, payload: payload)
        #expect(throws: AnalyticsError.self) { try b.receive(tampered) }
        var wrongHop = setB[0]
        wrongHop.body = .blinded(owner: owner, keys: 2, payload: payload)
        #expect(throws: AnalyticsError.self) { try b.receive(wrongHop) }
    }

    @Test("Hello keys are signed with the parties' certificate keys: a relay that swaps one in is caught, and so is a signature by another party")
    func signedHelloKeys() throws {
        let s = Self.sites()
        let params = PSIParameters(session: "signed", parties: ["hospital-a", "hospital-b"])
        let keyA = P256.Signing.PrivateKey(), keyB = P256.Signing.PrivateKey()
        let auth = PSIHelloAuthenticator(keys: ["hospital-a": keyA.publicKey, "hospital-b": keyB.publicKey])
        var a = try PSIParty(name: "hospital-a", identifiers: s.a, parameters: params, policy: .init())
        var b = try PSIParty(name: "hospital-b", identifiers: s.b, parameters: params, policy: .init())
        let helloA = try #require(a.start().first)
        _ = b.start()
        let signature = try #require(try PSIHelloAuthenticator.signature(for: helloA, key: keyA))
        try auth.check(helloA, signature: signature)
        // The relay's own key in place of a's: the signature no longer covers it.
        var swapped = helloA
        swapped.body = .hello(publicKey: Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation)
        #expect(throws: AnalyticsError.self) { try auth.check(swapped, signature: signature) }
        // A hello re-addressed, replayed into another session, signed by b, or unsigned.
        var readdressed = helloA
        readdressed.to = "hospital-c"
        #expect(throws: AnalyticsError.self) { try auth.check(readdressed, signature: signature) }
        var replayed = helloA
        replayed.parameters.session = "another"
        #expect(throws: AnalyticsError.self) { try auth.check(replayed, signature: signature) }
        let byB = try #require(try PSIHelloAuthenticator.signature(for: helloA, key: keyB))
        #expect(throws: AnalyticsError.self) { try auth.check(helloA, signature: byB) }
        #expect(throws: AnalyticsError.self) { try auth.check(helloA, signature: Data()) }
        // Sealed messages need none; the run completes with every hello checked.
        let sealed = try b.receive(helloA)
        #expect(sealed.allSatisfy { PSIHelloAuthenticator.signedContent(of: $0) == nil })
        for m in sealed { try auth.check(m, signature: Data()) }
    }
}
