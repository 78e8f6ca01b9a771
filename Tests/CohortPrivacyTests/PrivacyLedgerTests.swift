import CohortPrivacy
import Foundation
import Testing

@Suite("Privacy ledger")
struct PrivacyLedgerTests {
    static func entry(_ id: String, _ epsilon: Double, _ delta: Double = 1e-6) -> PrivacyLedger.Entry {
        PrivacyLedger.Entry(jobID: id, epsilon: epsilon, delta: delta, mechanism: "central DP, z = 1")
    }

    @Test("totals are sums of epsilon and of delta (basic composition)")
    func totals() throws {
        var ledger = PrivacyLedger()
        #expect(ledger.totalEpsilon == 0 && ledger.totalDelta == 0)
        try ledger.record(Self.entry("a", 0.5, 1e-6))
        try ledger.record(Self.entry("b", 1.25, 2e-6))
        #expect(ledger.totalEpsilon == 1.75)
        #expect(abs(ledger.totalDelta - 3e-6) < 1e-20)
        #expect(ledger.entries.map(\.jobID) == ["a", "b"])
    }

    @Test("a job that fits is accepted; one that does not is refused with the numbers in words")
    func check() throws {
        var ledger = PrivacyLedger()
        try ledger.record(Self.entry("j1", 1.5))
        try ledger.record(Self.entry("j2", 1.0))
        #expect(ledger.check(adding: Self.entry("j3", 0.5), maxEpsilon: 3) == nil)  // exactly at the limit
        let refusal = try #require(ledger.check(adding: Self.entry("j3", 1.0), maxEpsilon: 3))
        #expect(refusal.spentEpsilon == 2.5 && refusal.addedEpsilon == 1.0 && refusal.maxEpsilon == 3)
        #expect(refusal.message == "this site has spent epsilon 2.5 over 2 jobs; job 'j3' would add 1.0, for a total of 3.5, above the site's max_epsilon of 3.0")
        #expect(refusal.description == refusal.message)
    }

    @Test("delta limits are enforced when given; invalid or infinite epsilon is always refused")
    func deltaAndInvalid() throws {
        var ledger = PrivacyLedger()
        try ledger.record(Self.entry("j1", 0.1, 5e-6))
        #expect(ledger.check(adding: Self.entry("j2", 0.1, 5e-6), maxEpsilon: 10, maxDelta: 1e-5) == nil)
        let refusal = try #require(ledger.check(adding: Self.entry("j2", 0.1, 6e-6), maxEpsilon: 10, maxDelta: 1e-5))
        #expect(refusal.message.contains("max_delta"))
        let noDP = try #require(ledger.check(adding: Self.entry("j3", .infinity), maxEpsilon: 10))
        #expect(noDP.message.contains("cannot be accounted"))
        #expect(throws: PrivacyError(.invalidArgument, "")) { try ledger.record(Self.entry("x", -1)) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try ledger.record(Self.entry("x", 1, 2)) }
        #expect(throws: PrivacyError(.invalidArgument, "")) { try PrivacyLedger(entries: [Self.entry("x", .nan)]) }
        #expect(ledger.entries.count == 1)
    }

    @Test("round-trips through JSON")
    func codable() throws {
        var ledger = PrivacyLedger()
        try ledger.record(Self.entry("j1", 0.7))
        try ledger.record(PrivacyLedger.Entry(jobID: "j2", epsilon: 1.2, delta: 1e-5, mechanism: "local DP-SGD"))
        let data = try JSONEncoder().encode(ledger)
        let decoded = try JSONDecoder().decode(PrivacyLedger.self, from: data)
        #expect(decoded == ledger)
        #expect(decoded.totalEpsilon == ledger.totalEpsilon)
    }
}
