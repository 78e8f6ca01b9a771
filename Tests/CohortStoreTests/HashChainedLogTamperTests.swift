import CohortStore
import Foundation
import GRDB
import Testing

/// Each test builds a fresh 10-entry audit log, edits the database file over a raw connection (triggers dropped),
/// and checks what a new store instance's verification reports.
@Suite("HashChainedLog tamper detection")
struct HashChainedLogTamperTests {
    let count = 10

    private func verifyAfter(_ tamper: (Database, [LogEntry]) throws -> Void) throws -> LogVerification {
        let fixture = try StoreFixture()
        let entries = try fixture.appendEntries(self.count)
        #expect(try fixture.store.audit.verify().isValid)
        try fixture.tamper { db in try tamper(db, entries) }
        return try fixture.reopen().audit.verify()
    }

    /// Moves entries `from...` up by `by` (negative: down), keeping their stored columns.
    private static func shift(_ db: Database, from: Int64, by: Int64) throws {
        try db.execute(sql: "UPDATE audit_log SET sequence = -sequence WHERE sequence >= ?", arguments: [from])
        try db.execute(sql: "UPDATE audit_log SET sequence = -sequence + ? WHERE sequence < 0", arguments: [by])
    }

    @Test("An edited payload is reported as edited at that entry")
    func editedPayload() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: #"UPDATE audit_log SET payload = '{"k":999}' WHERE sequence = 4"#)
        }
        #expect(result.problem == .edited(4), "\(result)")
        #expect(!result.isValid)
    }

    @Test("Only the first of several edits is reported")
    func firstEditWins() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE sequence IN (7, 3)")
        }
        #expect(result.problem == .edited(3), "\(result)")
    }

    @Test("An edited content hash or time is reported as edited")
    func editedOtherFields() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "UPDATE audit_log SET time = '2020-01-01T00:00:00.000Z' WHERE sequence = 6")
        }
        #expect(result.problem == .edited(6), "\(result)")
        let hashes = try self.verifyAfter { db, _ in
            try db.execute(sql: "UPDATE audit_log SET content_hashes = '[]' WHERE sequence = 2")
        }
        #expect(hashes.problem == .edited(2), "\(hashes)")
    }

    @Test("A malformed column is reported as edited")
    func malformedColumn() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "UPDATE audit_log SET content_hashes = 'not json' WHERE sequence = 5")
        }
        #expect(result.problem == .edited(5), "\(result)")
    }

    @Test("A deleted middle entry is reported as deleted after its predecessor")
    func deletedMiddle() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 5")
        }
        #expect(result.problem == .deleted(after: 4), "\(result)")
    }

    @Test("A deleted first entry is reported as deleted after 0")
    func deletedFirst() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 1")
        }
        #expect(result.problem == .deleted(after: 0), "\(result)")
    }

    @Test("A deleted middle entry with the later entries renumbered is reported as deleted")
    func deletedAndRenumbered() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 5")
            try Self.shift(db, from: 6, by: -1)
        }
        #expect(result.problem == .deleted(after: 4), "\(result)")
    }

    @Test("A deleted last entry is detected through the stored head")
    func deletedLast() throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 10")
        }
        #expect(result.problem == .deleted(after: 9), "\(result)")
        let two = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence >= 9")
        }
        #expect(two.problem == .deleted(after: 8), "\(two)")
    }

    @Test("Appending after a truncation keeps the deletion visible")
    func appendAfterTruncation() throws {
        let fixture = try StoreFixture()
        try fixture.appendEntries(self.count)
        try fixture.tamper { db in try db.execute(sql: "DELETE FROM audit_log WHERE sequence = 10") }
        let store = try fixture.reopen()
        let next = try store.audit.append(actor: "coordinator", event: "after.truncation")
        #expect(next.sequence == 11)
        #expect(try store.audit.verify().problem == .deleted(after: 9))
    }

    @Test("Two swapped entries are reported as reordered at the first of them", arguments: [(3, 6), (5, 6), (1, 10)])
    func swapped(first: Int64, second: Int64) throws {
        let result = try self.verifyAfter { db, _ in
            try db.execute(sql: "UPDATE audit_log SET sequence = -1 WHERE sequence = ?", arguments: [first])
            try db.execute(sql: "UPDATE audit_log SET sequence = ? WHERE sequence = ?", arguments: [first, second])
            try db.execute(sql: "UPDATE audit_log SET sequence = ? WHERE sequence = -1", arguments: [second])
        }
        #expect(result.problem == .reordered(first), "\(result)")
    }

    @Test("An entry moved later (the ones between shifted down) is reported as reordered")
    func movedLater() throws {
        let result = try self.verifyAfter { db, _ in
            // Order becomes 1, 2, 4, 5, 6, 3, 7, ...: entry 3 now sits at 6.
            for (from, to) in [(3, 100), (4, 3), (5, 4), (6, 5), (100, 6)] {
                try db.execute(sql: "UPDATE audit_log SET sequence = ? WHERE sequence = ?", arguments: [to, from])
            }
        }
        #expect(result.problem == .reordered(3), "\(result)")
    }

    @Test("A forged entry inserted in the middle with a correct hash is reported as inserted")
    func insertedForgery() throws {
        let result = try self.verifyAfter { db, entries in
            try Self.shift(db, from: 4, by: 1)
            let previous = entries[2].entryHash
            let forged = LogEntry.computeHash(
                sequence: 4,
                time: entries[3].time,
                actor: "coordinator",
                event: "job.submitted",
                payload: #"{"job":"forged"}"#,
                contentHashes: [],
                previousHash: previous
            )
            try db.execute(
                sql: """
                    INSERT INTO audit_log
                        (sequence, time, actor, event, payload, content_hashes, previous_hash, entry_hash)
                    VALUES (4, ?, 'coordinator', 'job.submitted', '{"job":"forged"}', '[]', ?, ?)
                    """,
                arguments: [entries[3].time, previous, forged]
            )
        }
        #expect(result.problem == .inserted(4), "\(result)")
    }

    @Test("A forged entry appended without moving the head is reported as inserted")
    func appendedForgery() throws {
        let result = try self.verifyAfter { db, entries in
            let forged = LogEntry.computeHash(
                sequence: 11,
                time: entries[9].time,
                actor: "coordinator",
                event: "x",
                payload: "{}",
                contentHashes: [],
                previousHash: entries[9].entryHash
            )
            try db.execute(
                sql: """
                    INSERT INTO audit_log
                        (sequence, time, actor, event, payload, content_hashes, previous_hash, entry_hash)
                    VALUES (11, ?, 'coordinator', 'x', '{}', '[]', ?, ?)
                    """,
                arguments: [entries[9].time, entries[9].entryHash, forged]
            )
        }
        #expect(result.problem == .inserted(11), "\(result)")
    }

    @Test("An entry replaced with a recomputed hash breaks the link to the next entry")
    func replacedWithRecomputedHash() throws {
        let result = try self.verifyAfter { db, entries in
            let old = entries[3]
            let hash = LogEntry.computeHash(
                sequence: 4,
                time: old.time,
                actor: old.actor,
                event: old.event,
                payload: #"{"k":999}"#,
                contentHashes: old.contentHashes,
                previousHash: old.previousHash
            )
            try db.execute(
                sql: #"UPDATE audit_log SET payload = '{"k":999}', entry_hash = ? WHERE sequence = 4"#,
                arguments: [hash]
            )
        }
        // Entry 5 names a predecessor that is no longer stored (documented: replaced or removed after 4).
        #expect(result.problem == .deleted(after: 4), "\(result)")
    }

    @Test("A replaced last entry or an edited head record is reported as a head mismatch")
    func headMismatch() throws {
        let last = try self.verifyAfter { db, entries in
            let old = entries[9]
            let hash = LogEntry.computeHash(
                sequence: 10,
                time: old.time,
                actor: "mallory",
                event: old.event,
                payload: old.payload,
                contentHashes: old.contentHashes,
                previousHash: old.previousHash
            )
            try db.execute(
                sql: "UPDATE audit_log SET actor = 'mallory', entry_hash = ? WHERE sequence = 10",
                arguments: [hash]
            )
        }
        #expect(last.problem == .headMismatch(10), "\(last)")

        let head = try self.verifyAfter { db, _ in
            try db.execute(
                sql: "UPDATE chain_head SET entry_hash = ? WHERE log = 'audit_log'",
                arguments: [String(repeating: "a", count: 64)]
            )
        }
        #expect(head.problem == .headMismatch(10), "\(head)")

        let missing = try self.verifyAfter { db, _ in
            try db.execute(sql: "DELETE FROM chain_head")
        }
        #expect(missing.problem?.kind == .headMismatch, "\(missing)")
    }

    @Test("A consistent rewrite passes alone but is caught by an anchor kept outside the database")
    func anchorCatchesRewrite() throws {
        let fixture = try StoreFixture()
        let entries = try fixture.appendEntries(self.count)
        let anchor = try fixture.store.audit.head()
        try fixture.tamper { db in
            var previous = entries[4].entryHash
            for entry in entries[5...] {
                let actor = entry.sequence == 6 ? "mallory" : entry.actor
                let hash = LogEntry.computeHash(
                    sequence: entry.sequence,
                    time: entry.time,
                    actor: actor,
                    event: entry.event,
                    payload: entry.payload,
                    contentHashes: entry.contentHashes,
                    previousHash: previous
                )
                try db.execute(
                    sql: "UPDATE audit_log SET actor = ?, previous_hash = ?, entry_hash = ? WHERE sequence = ?",
                    arguments: [actor, previous, hash, entry.sequence]
                )
                previous = hash
            }
            try db.execute(sql: "UPDATE chain_head SET entry_hash = ? WHERE log = 'audit_log'", arguments: [previous])
        }
        let log = try fixture.reopen().audit
        // The documented limit: without an anchor a full rewrite of the tail is consistent.
        #expect(try log.verify().isValid)
        #expect(try log.verify(anchor: anchor).problem == .edited(10))
        // An anchor before the rewritten part still matches.
        #expect(try log.verify(anchor: LogAnchor(sequence: 5, entryHash: entries[4].entryHash)).isValid)
        // An anchor beyond the end means entries were removed.
        #expect(
            try log.verify(anchor: LogAnchor(sequence: 12, entryHash: anchor.entryHash)).problem == .deleted(after: 10)
        )
    }
}
