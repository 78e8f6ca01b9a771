public import Foundation
import GRDB

/// A registered model checkpoint, as stored in the `checkpoints` table; its bytes are in
/// `STATE/checkpoints/<sha256>.bin`.
public struct CheckpointRow: Sendable, Hashable, Codable {
    /// SHA-256 (lowercase hex) of the bytes, which is also the file's name.
    public var sha256: String
    public var byteCount: Int
    public var createdAt: Date

    public init(sha256: String, byteCount: Int, createdAt: Date) {
        self.sha256 = sha256
        self.byteCount = byteCount
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case sha256
        case byteCount = "byte_count"
        case createdAt = "created_at"
    }

    init(row: Row) throws {
        self.init(
            sha256: try row.text("sha256"),
            byteCount: Int(try row.integer("byte_count")),
            createdAt: try row.timestamp("created_at")
        )
    }
}
