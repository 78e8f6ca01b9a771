import Foundation
import GRDB

/// Opens the SQLite databases of the state directory.
enum StateDatabase {
    /// Creates `directory` if needed, opens `directory/file` as a WAL-mode pool and runs `migrator`.
    ///
    /// `synchronous = FULL` makes every committed transaction durable (WAL's default `NORMAL` may lose the last
    /// commits on power loss, which would let a coordinator redo a round it already reported).
    static func open(directory: URL, file: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .io,
                "cannot create the state directory \(directory.path): \(error). Choose a writable location",
                cause: error
            )
        }
        let path = directory.appendingPathComponent(file).path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return try StoreError.wrapping("cannot open \(path)") {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try migrator.migrate(pool)
            return pool
        }
    }
}
