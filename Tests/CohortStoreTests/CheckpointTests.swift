import CohortStore
import Foundation
import Testing

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("Write then read returns the bytes, named by their SHA-256")
    func roundTrip() throws {
        let fixture = try StoreFixture()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sha = try fixture.store.writeCheckpoint(bytes: bytes)
        #expect(sha == sha256Hex(bytes))
        #expect(try fixture.store.readCheckpoint(sha256: sha) == bytes)
        #expect(try fixture.store.hasCheckpoint(sha256: sha))
        let url = fixture.store.checkpointURL(sha256: sha)
        #expect(url.lastPathComponent == "\(sha).bin")
        #expect(url.deletingLastPathComponent().lastPathComponent == "checkpoints")
        #expect(try fixture.reopen().readCheckpoint(sha256: sha) == bytes)
    }

    @Test("Writing the same bytes twice keeps one file and one row, and no temporary files")
    func idempotent() throws {
        let fixture = try StoreFixture()
        let first = try fixture.store.writeCheckpoint(bytes: [1, 2, 3])
        let second = try fixture.store.writeCheckpoint(bytes: [1, 2, 3])
        #expect(first == second)
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.store.checkpointDirectory.path)
        #expect(files == ["\(first).bin"])
        let rows = try fixture.store.checkpoints()
        #expect(rows.map(\.sha256) == [first])
        #expect(rows.first?.byteCount == 3)
    }

    @Test("A corrupted checkpoint file is detected on read, naming the file")
    func corruptionDetected() throws {
        let fixture = try StoreFixture()
        let bytes: [UInt8] = Array(repeating: 7, count: 1000)
        let sha = try fixture.store.writeCheckpoint(bytes: bytes)
        let url = fixture.store.checkpointURL(sha256: sha)
        var damaged = bytes
        damaged[500] ^= 0x01
        try Data(damaged).write(to: url)
        let error = expectStoreError(.checkpointCorrupt) { _ = try fixture.store.readCheckpoint(sha256: sha) }
        #expect(error?.message.contains(url.path) == true)

        // Writing the original bytes again repairs the file.
        #expect(try fixture.store.writeCheckpoint(bytes: bytes) == sha)
        #expect(try fixture.store.readCheckpoint(sha256: sha) == bytes)
    }

    @Test("Missing checkpoints and malformed names are errors")
    func missingAndMalformed() throws {
        let fixture = try StoreFixture()
        expectStoreError(.checkpointMissing) {
            _ = try fixture.store.readCheckpoint(sha256: String(repeating: "e", count: 64))
        }
        expectStoreError(.invalidArgument) { _ = try fixture.store.readCheckpoint(sha256: "../coordinator") }
        #expect(try !fixture.store.hasCheckpoint(sha256: "../coordinator"))
    }

    @Test("An empty checkpoint is allowed")
    func empty() throws {
        let fixture = try StoreFixture()
        let sha = try fixture.store.writeCheckpoint(bytes: [])
        #expect(sha == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try fixture.store.readCheckpoint(sha256: sha) == [])
    }
}
