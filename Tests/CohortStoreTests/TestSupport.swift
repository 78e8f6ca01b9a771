import CohortStore
import CohortTesting
import Crypto
import Foundation
import GRDB
import Testing

/// A coordinator store in a fresh temporary directory, removed when the fixture goes away.
final class StoreFixture {
    let directory: TemporaryDirectory
    let store: CoordinatorStore

    init() throws {
        self.directory = try TemporaryDirectory(prefix: "cohort-store")
        self.store = try CoordinatorStore(directory: self.directory.path("STATE"))
    }

    deinit {
        self.directory.remove()
    }

    var stateURL: URL { self.directory.path("STATE") }
    var databasePath: String { self.stateURL.appendingPathComponent("coordinator.sqlite").path }

    /// A new store instance on the same state directory (as after a restart).
    func reopen() throws -> CoordinatorStore {
        try CoordinatorStore(directory: self.stateURL)
    }

    /// Appends `count` entries with distinct payloads and fixed times; returns them.
    @discardableResult
    func appendEntries(_ count: Int) throws -> [LogEntry] {
        try (1...count).map { k in
            try self.store.audit.append(
                actor: k.isMultiple(of: 2) ? "admin@hospital-a" : "coordinator",
                event: "test.event",
                payload: ["k": .int(Int64(k)), "note": .string("entry \(k)")],
                contentHashes: [sha256Hex("content \(k)")],
                time: Date(timeIntervalSince1970: 1_700_000_000 + Double(k))
            )
        }
    }

    /// Edits the database the way someone with the file would: over a separate connection, with the append-only
    /// triggers dropped and foreign keys off.
    func tamper(_ body: (Database) throws -> Void) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: self.databasePath, configuration: configuration)
        try queue.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER IF EXISTS audit_log_no_update;
                    DROP TRIGGER IF EXISTS audit_log_no_delete;
                    DROP TRIGGER IF EXISTS chain_head_no_delete;
                    DROP TRIGGER IF EXISTS chain_head_forward_only;
                    """
            )
            try body(db)
        }
        try queue.close()
    }

    /// Counts rows of `table` (over a separate connection).
    func count(_ table: String, where condition: String = "1") throws -> Int {
        let queue = try DatabaseQueue(path: self.databasePath)
        defer { try? queue.close() }
        return try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition)") ?? -1
        }
    }
}

/// Lowercase hex SHA-256 of a string's UTF-8 bytes.
func sha256Hex(_ text: String) -> String {
    sha256Hex(Array(text.utf8))
}

/// Lowercase hex SHA-256 of bytes.
func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

/// Asserts that `body` throws a ``StoreError`` with `code`, and returns it.
@discardableResult
func expectStoreError(
    _ code: StoreError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> StoreError? {
    do {
        try body()
        Issue.record("expected StoreError \(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as StoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected StoreError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
