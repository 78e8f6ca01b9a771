import CohortStore
import CohortTesting
import Foundation
import GRDB
import Testing

@Suite("cohort audit")
struct AuditCommandTests {
    /// A coordinator state directory with a 10-entry audit log, tampered by `edit` (raw SQL with the append-only
    /// triggers dropped, as someone editing the file would).
    static func tampered(_ edit: (Database) throws -> Void) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        let store = try CoordinatorStore(directory: dir.url)
        for i in 1...10 { _ = try store.audit.append(actor: "coordinator", event: "test.event", payload: ["i": .int(Int64(i))]) }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: dir.path("coordinator.sqlite").path, configuration: configuration)
        try queue.write { db in
            for t in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") {
                try db.execute(sql: "DROP TRIGGER \"\(t)\"")
            }
            try edit(db)
        }
        try queue.close()
        return dir
    }

    static func table(_ db: Database) throws -> String {
        try String.fetchOne(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%previous_hash%'")!
    }

    @Test("an intact log verifies")
    func intact() throws {
        let dir = try Self.tampered { _ in }
        defer { dir.remove() }
        let r = try CohortBinary.run(["audit", "verify", "--state", dir.url.path])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("ok: 10 entries"))
    }

    @Test("an edited entry is named")
    func edited() throws {
        let dir = try Self.tampered { db in
            try db.execute(sql: "UPDATE \(try Self.table(db)) SET actor = 'someone-else' WHERE sequence = 4")
        }
        defer { dir.remove() }
        let r = try CohortBinary.run(["audit", "verify", "--state", dir.url.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("edited at entry 4"), "\(r.stderr)")
    }

    @Test("a deleted entry is named")
    func deleted() throws {
        let dir = try Self.tampered { db in try db.execute(sql: "DELETE FROM \(try Self.table(db)) WHERE sequence = 6") }
        defer { dir.remove() }
        let r = try CohortBinary.run(["audit", "verify", "--state", dir.url.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("deleted after entry 5"), "\(r.stderr)")
    }

    @Test("reordered entries are named")
    func reordered() throws {
        let dir = try Self.tampered { db in
            let t = try Self.table(db)
            try db.execute(sql: "UPDATE \(t) SET sequence = -1 WHERE sequence = 3")
            try db.execute(sql: "UPDATE \(t) SET sequence = 3 WHERE sequence = 4")
            try db.execute(sql: "UPDATE \(t) SET sequence = 4 WHERE sequence = -1")
        }
        defer { dir.remove() }
        let r = try CohortBinary.run(["audit", "verify", "--state", dir.url.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("at entry 3"), "\(r.stderr)")
    }

    @Test("export writes one JSON object per entry")
    func export() throws {
        let dir = try Self.tampered { _ in }
        defer { dir.remove() }
        let out = dir.path("audit.jsonl")
        let r = try CohortBinary.run(["audit", "export", "--state", dir.url.path, "--out", out.path])
        #expect(r.status == 0)
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 10)
        for l in lines { #expect((try? JSONSerialization.jsonObject(with: Data(l.utf8))) != nil) }
    }
}

@Suite("Example files")
struct ExampleFileTests {
    @Test("the README's example project, job and schema parse, and the schema is the built-in one")
    func examples() throws {
        let dir = SharedData.packageRoot.appendingPathComponent("examples/network")
        let project = try ProjectDefinition.load(from: dir.appendingPathComponent("project.yaml"))
        #expect(project.sites.map(\.name) == ["hospital-01", "hospital-02", "hospital-03"])
        let job = try JobFile.load(dir.appendingPathComponent("job.yaml"))
        #expect(job.sites == ["hospital-01", "hospital-02", "hospital-03"])
        let schema = try String(contentsOf: dir.appendingPathComponent("schema.yaml"), encoding: .utf8)
        #expect(schema == SyntheticHospitalNetwork.schemaYAML + "\n")
    }
}

import CohortData
import CohortPKI
import CohortRuntime
