import CohortStore
import CohortTesting
import Foundation
import Testing

@Suite("SiteStore")
struct SiteStoreTests {
    @Test("Egress entries record kind, job, round and bytes, with the message hash as content hash")
    func egress() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let state = temporary.path("STATE")
        let store = try SiteStore(directory: state)
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("site.sqlite").path))

        let message: [UInt8] = [9, 8, 7]
        let entry = try store.recordEgress(
            actor: "site-a",
            kind: "update",
            jobID: "j1",
            round: 3,
            byteCount: message.count,
            sha256: sha256Hex(message)
        )
        #expect(entry.event == "egress.update")
        #expect(entry.contentHashes == [sha256Hex(message)])
        #expect(
            try entry.payloadObject() == [
                "kind": "update", "job": "j1", "round": 3, "bytes": 3, "destination": "coordinator",
            ]
        )
        try store.recordEgress(actor: "site-a", kind: "metrics", jobID: "j1", byteCount: 10, sha256: sha256Hex("m"))

        let reopened = try SiteStore(directory: state)
        let result = try reopened.egress.verify()
        #expect(result.isValid)
        #expect(result.entryCount == 2)
        #expect(try reopened.egress.entries().last?.payloadObject()["round"] == nil)
        expectStoreError(.invalidArgument) {
            try reopened.recordEgress(actor: "site-a", kind: "update", jobID: "j1", byteCount: 1, sha256: "nope")
        }
        #expect(try reopened.egress.head().sequence == 2)
    }

    @Test("The privacy ledger sums epsilon per job and overall, and rejects invalid spends")
    func privacyLedger() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let store = try SiteStore(directory: temporary.path("STATE"))
        #expect(try store.totalEpsilon() == 0)
        try store.recordPrivacySpend(jobID: "a", epsilon: 0.5, delta: 1e-5)
        try store.recordPrivacySpend(jobID: "a", epsilon: 0.25, delta: 1e-5)
        try store.recordPrivacySpend(jobID: "b", epsilon: 1.0, delta: 0)
        #expect(try store.totalEpsilon() == 1.75)
        #expect(try store.totalEpsilon(jobID: "a") == 0.75)
        #expect(try store.totalEpsilon(jobID: "c") == 0)
        expectStoreError(.invalidArgument) { try store.recordPrivacySpend(jobID: "a", epsilon: -1, delta: 0) }
        expectStoreError(.invalidArgument) { try store.recordPrivacySpend(jobID: "a", epsilon: .infinity, delta: 0) }
        expectStoreError(.invalidArgument) { try store.recordPrivacySpend(jobID: "a", epsilon: 1, delta: 2) }
        #expect(try SiteStore(directory: temporary.path("STATE")).totalEpsilon() == 1.75)
    }
}
