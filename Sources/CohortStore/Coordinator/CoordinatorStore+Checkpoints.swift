import Crypto
public import Foundation
import GRDB

extension CoordinatorStore {
    /// `STATE/checkpoints`, holding one `<sha256>.bin` file per checkpoint.
    public var checkpointDirectory: URL {
        self.directory.appendingPathComponent("checkpoints", isDirectory: true)
    }

    /// The file of the checkpoint with hash `sha256` (which may not exist).
    public func checkpointURL(sha256: String) -> URL {
        self.checkpointDirectory.appendingPathComponent("\(sha256).bin")
    }

    /// Stores a checkpoint durably and registers it; returns the SHA-256 (lowercase hex) of `bytes`.
    ///
    /// The bytes go to a temporary file that is `fsync`ed and renamed to `<sha256>.bin`, then the directory is
    /// `fsync`ed, then the `checkpoints` row is inserted. Idempotent: an existing file with the right hash is kept
    /// (one with the wrong hash is replaced).
    @discardableResult
    public func writeCheckpoint(bytes: [UInt8]) throws -> String {
        try self.writeCheckpoint(bytes: bytes, sha256: Hex.string(SHA256.hash(data: bytes)))
    }

    /// Writes a checkpoint whose SHA-256 the caller has just computed over the same bytes (saves hashing twice).
    public func writeCheckpoint(bytes: [UInt8], sha256: String) throws -> String {
        guard Hex.isSHA256(sha256) else {
            throw StoreError(.invalidArgument, "checkpoint hash '\(sha256)' is not 64 lowercase hex digits")
        }
        let url = self.checkpointURL(sha256: sha256)
        if try DurableFile.sha256(of: url)?.sha256 != sha256 {
            try DurableFile.writeAtomically(bytes, to: url)
        }
        try self.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO checkpoints (sha256, byte_count, created_at) VALUES (?, ?, ?)",
                arguments: [sha256, bytes.count, Timestamp.string(Date())]
            )
        }
        return sha256
    }

    /// Reads a checkpoint and checks that its bytes hash to `sha256`.
    ///
    /// - Throws: ``StoreError`` `.invalidArgument` if `sha256` is not a digest; `.checkpointMissing` if there is no
    ///   file; `.checkpointCorrupt` (naming the file) if its bytes do not match.
    public func readCheckpoint(sha256: String) throws -> [UInt8] {
        guard Hex.isSHA256(sha256) else {
            throw StoreError(.invalidArgument, "checkpoint hash '\(sha256)' is not 64 lowercase hex digits")
        }
        let url = self.checkpointURL(sha256: sha256)
        guard let bytes = try DurableFile.contents(of: url) else {
            throw StoreError(
                .checkpointMissing,
                "checkpoint file \(url.path) does not exist; restore it from a backup or restart the job"
            )
        }
        let actual = Hex.string(SHA256.hash(data: bytes))
        guard actual == sha256 else {
            throw StoreError(
                .checkpointCorrupt,
                "checkpoint file \(url.path) is corrupt: its bytes hash to \(actual); restore it from a backup or "
                    + "restart the job from an earlier round"
            )
        }
        return bytes
    }

    /// Whether a checkpoint with hash `sha256` is registered and its file exists.
    public func hasCheckpoint(sha256: String) throws -> Bool {
        guard Hex.isSHA256(sha256) else { return false }
        return try self.read { db in
            do {
                try self.requireCheckpoint(sha256: sha256, in: db)
                return true
            } catch let error as StoreError where error.code == .checkpointMissing {
                return false
            }
        }
    }

    /// All registered checkpoints, oldest first.
    public func checkpoints() throws -> [CheckpointRow] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM checkpoints ORDER BY created_at, sha256")
                .map(CheckpointRow.init(row:))
        }
    }

    /// Throws `.checkpointMissing` unless the checkpoint is registered and its file has the registered size.
    func requireCheckpoint(sha256: String, in db: Database) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM checkpoints WHERE sha256 = ?", arguments: [sha256])
        else {
            throw StoreError(
                .checkpointMissing,
                "checkpoint \(sha256) is not registered; store the model with writeCheckpoint(bytes:) first"
            )
        }
        let registered = try CheckpointRow(row: row)
        let url = self.checkpointURL(sha256: sha256)
        guard let size = DurableFile.size(of: url), size == registered.byteCount else {
            throw StoreError(
                .checkpointMissing,
                "checkpoint file \(url.path) is missing or not \(registered.byteCount) bytes; write the model again "
                    + "with writeCheckpoint(bytes:)"
            )
        }
    }

    func createCheckpointDirectory() throws {
        do {
            try FileManager.default.createDirectory(at: self.checkpointDirectory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .io,
                "cannot create \(self.checkpointDirectory.path): \(error). Choose a writable state directory",
                cause: error
            )
        }
    }
}
