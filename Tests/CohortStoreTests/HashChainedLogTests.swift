import CohortStore
import CohortTesting
import Foundation
import GRDB
import Testing

@Suite("HashChainedLog")
struct HashChainedLogTests {
    @Test("Appended entries form a valid, contiguous chain")
    func appendsAndVerifies() throws {
        let fixture = try StoreFixture()
        let appended = try fixture.appendEntries(20)

        let result = try fixture.store.audit.verify()
        #expect(result.isValid, "\(result)")
        #expect(result.entryCount == 20)
        #expect(result.head == LogAnchor(sequence: 20, entryHash: appended[19].entryHash))
        #expect(try fixture.store.audit.head() == result.head)

        let stored = try fixture.store.audit.entries()
        #expect(stored == appended)
        #expect(stored.map(\.sequence) == Array(1...20))
        #expect(stored[0].previousHash == String(repeating: "0", count: 64))
        for k in 1..<stored.count {
            #expect(stored[k].previousHash == stored[k - 1].entryHash)
        }
        #expect(stored.allSatisfy { $0.hasValidHash })
    }

    @Test("An empty log verifies with head 0")
    func emptyLog() throws {
        let fixture = try StoreFixture()
        let result = try fixture.store.audit.verify()
        #expect(result.isValid)
        #expect(result.entryCount == 0)
        #expect(result.head == LogAnchor(sequence: 0, entryHash: LogEntry.genesisHash))
    }

    @Test("The entry hash matches a known-answer vector computed independently")
    func knownAnswerHash() {
        // Computed with Python's hashlib over the documented length-prefixed encoding.
        let hash = LogEntry.computeHash(
            sequence: 1,
            time: "2024-01-02T03:04:05.678Z",
            actor: "coordinator",
            event: "job.submitted",
            payload: #"{"job":"j-1"}"#,
            contentHashes: ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
            previousHash: LogEntry.genesisHash
        )
        #expect(hash == "490e5cd65df6be45383763a7af7b3ad825bba2fa4c4ec203af5a50f985fb0338")
    }

    @Test("Field boundaries are part of the hash")
    func encodingIsUnambiguous() {
        let a = LogEntry.computeHash(
            sequence: 1,
            time: "t",
            actor: "ab",
            event: "c",
            payload: "{}",
            contentHashes: [],
            previousHash: LogEntry.genesisHash
        )
        let b = LogEntry.computeHash(
            sequence: 1,
            time: "t",
            actor: "a",
            event: "bc",
            payload: "{}",
            contentHashes: [],
            previousHash: LogEntry.genesisHash
        )
        #expect(a != b)
    }

    @Test("Entries store the time as ISO 8601 UTC with milliseconds, and the payload canonically")
    func storedForms() throws {
        let fixture = try StoreFixture()
        let entry = try fixture.store.audit.append(
            actor: "coordinator",
            event: "job.submitted",
            payload: ["z": 1, "a": ["x": "y\n", "b": [true, nil, 1.5]]],
            time: Date(timeIntervalSince1970: 1_700_000_000.123)
        )
        #expect(entry.time == "2023-11-14T22:13:20.123Z")
        #expect(entry.payload == #"{"a":{"b":[true,null,1.5],"x":"y\n"},"z":1}"#)
        #expect(try entry.payloadObject() == ["z": 1, "a": ["x": "y\n", "b": [true, nil, 1.5]]])
    }

    @Test(
        "Times are rounded to the millisecond and formatted in UTC",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (-0.001, "1969-12-31T23:59:59.999Z"),
            (951_782_400.0, "2000-02-29T00:00:00.000Z"),
            (1_709_251_199.9996, "2024-03-01T00:00:00.000Z"),
            (1_709_251_199.999, "2024-02-29T23:59:59.999Z"),
            (4_102_444_800.5, "2100-01-01T00:00:00.500Z"),
        ]
    )
    func timeFormat(seconds: Double, expected: String) throws {
        let fixture = try StoreFixture()
        let entry = try fixture.store.audit.append(actor: "a", event: "e", time: Date(timeIntervalSince1970: seconds))
        #expect(entry.time == expected)
        // The same instant stored as a job time reads back to the rounded millisecond.
        try fixture.store.insertJob(
            JobRow(
                id: "j",
                name: "j",
                specJSON: "{}",
                submittedBy: "a",
                submittedAt: Date(timeIntervalSince1970: seconds)
            )
        )
        let stored = try #require(try fixture.store.job(id: "j")).submittedAt.timeIntervalSince1970
        #expect(abs(stored - (seconds * 1000).rounded() / 1000) < 1e-6)
    }

    @Test("Malformed content hashes and non-finite numbers are refused and nothing is appended")
    func rejectsBadArguments() throws {
        let fixture = try StoreFixture()
        expectStoreError(.invalidArgument) {
            try fixture.store.audit.append(actor: "a", event: "e", contentHashes: ["ABC"])
        }
        expectStoreError(.invalidArgument) {
            try fixture.store.audit.append(actor: "a", event: "e", payload: ["loss": .double(.nan)])
        }
        #expect(try fixture.store.audit.head().sequence == 0)
    }

    @Test("Appending outside a transaction is refused")
    func appendNeedsTransaction() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in try HashChainedLog.createTables(named: "events", in: db) }
        let log = try HashChainedLog(table: "events", writer: queue)
        _ = queue.writeWithoutTransaction { db in
            expectStoreError(.invalidArgument) {
                try log.append(actor: "a", event: "e", in: db)
            }
        }
        #expect(try log.entries().isEmpty)
    }

    @Test(
        "Table names that are not plain identifiers are refused",
        arguments: ["", "1log", "a;drop", "chain_head", "Audit"]
    )
    func rejectsBadTableNames(name: String) throws {
        let queue = try DatabaseQueue()
        expectStoreError(.invalidArgument) {
            _ = try HashChainedLog(table: name, writer: queue)
        }
    }

    @Test("The append-only triggers stop updates and deletes through the application")
    func triggersBlockEdits() throws {
        let fixture = try StoreFixture()
        try fixture.appendEntries(3)
        expectStoreError(.database) {
            try fixture.store.write { db in
                try db.execute(sql: "UPDATE audit_log SET payload = '{}' WHERE sequence = 2")
            }
        }
        expectStoreError(.database) {
            try fixture.store.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 3") }
        }
        expectStoreError(.database) {
            try fixture.store.write { db in try db.execute(sql: "UPDATE chain_head SET sequence = 2") }
        }
        #expect(try fixture.store.audit.verify().isValid)
    }

    @Test("Entries page by sequence")
    func paging() throws {
        let fixture = try StoreFixture()
        try fixture.appendEntries(10)
        #expect(try fixture.store.audit.entries(from: 4, limit: 3).map(\.sequence) == [4, 5, 6])
        #expect(try fixture.store.audit.entries(from: 9, limit: 100).map(\.sequence) == [9, 10])
        #expect(try fixture.store.audit.entries(from: 11).isEmpty)
    }

    @Test("Export writes one JSON object per line with every field, and the hashes recompute")
    func exportsJSONLines() throws {
        let fixture = try StoreFixture()
        let appended = try fixture.appendEntries(5)
        let url = fixture.directory.path("audit.jsonl")
        try fixture.store.audit.export(to: url)

        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 5)
        let keys: Set<String> = [
            "sequence", "time", "actor", "event", "payload", "content_hashes", "previous_hash", "entry_hash",
        ]
        for (line, expected) in zip(lines, appended) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == keys)
            let entry = try JSONDecoder().decode(LogEntry.self, from: Data(line.utf8))
            #expect(entry == expected)
            #expect(entry.hasValidHash)
        }
    }

    @Test("Concurrent appends from many tasks produce a valid, gap-free chain", .timeLimit(.minutes(1)))
    func concurrentAppends() async throws {
        let fixture = try StoreFixture()
        let log = fixture.store.audit
        let tasks = 8
        let perTask = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for k in 0..<perTask {
                        try log.append(actor: "task-\(t)", event: "concurrent", payload: ["k": .int(Int64(k))])
                    }
                }
            }
            try await group.waitForAll()
        }
        let result = try log.verify()
        #expect(result.isValid, "\(result)")
        #expect(result.entryCount == Int64(tasks * perTask))
        let entries = try log.entries(limit: 10_000)
        #expect(entries.map(\.sequence) == Array(1...Int64(tasks * perTask)))
        let perActor = Dictionary(grouping: entries, by: \.actor).mapValues(\.count)
        #expect(perActor.count == tasks)
        #expect(perActor.values.allSatisfy { $0 == perTask })
    }

    @Test("Entries survive reopening the store")
    func persists() throws {
        let fixture = try StoreFixture()
        let appended = try fixture.appendEntries(4)
        let reopened = try fixture.reopen()
        #expect(try reopened.audit.entries() == appended)
        #expect(try reopened.audit.verify().isValid)
        let next = try reopened.audit.append(actor: "coordinator", event: "after.restart")
        #expect(next.sequence == 5)
        #expect(next.previousHash == appended[3].entryHash)
    }
}
