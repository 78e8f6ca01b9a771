public import Foundation
import GRDB

/// The lifecycle state of a job: `queued`, `running`, then one of the terminal states `finished`, `failed`,
/// `cancelled`.
public struct JobStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The stored text.
    public let rawValue: String
    private init(_ rawValue: String) { self.rawValue = rawValue }

    public static let queued = JobStatus("queued")
    public static let running = JobStatus("running")
    public static let finished = JobStatus("finished")
    public static let failed = JobStatus("failed")
    public static let cancelled = JobStatus("cancelled")

    /// Every status, in lifecycle order.
    public static let all: [JobStatus] = [.queued, .running, .finished, .failed, .cancelled]

    /// The status stored as `rawValue`, or `nil` if unknown.
    public init?(rawValue: String) {
        guard let known = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    /// Whether the job can no longer change (`finished`, `failed`, `cancelled`).
    public var isTerminal: Bool { self == .finished || self == .failed || self == .cancelled }

    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let status = JobStatus(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown job status '\(text)'")
            )
        }
        self = status
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self.rawValue)
    }
}

/// A job as stored in the `jobs` table.
public struct JobRow: Sendable, Hashable, Codable {
    public var id: String
    /// A human-readable name.
    public var name: String
    /// The job specification, as submitted (JSON text).
    public var specJSON: String
    public var status: JobStatus
    /// The submitting admin's certificate name.
    public var submittedBy: String
    public var submittedAt: Date
    /// Set when the job first becomes `running`.
    public var startedAt: Date?
    /// Set when the job reaches a terminal status.
    public var finishedAt: Date?
    /// Rounds whose outcome is committed; the next round to commit is `roundsCompleted + 1`.
    public var roundsCompleted: Int
    /// The latest status message (why it failed, who cancelled it).
    public var message: String?
    /// SHA-256 of the final model's checkpoint, once finished.
    public var finalModelSHA256: String?

    public init(
        id: String,
        name: String,
        specJSON: String,
        status: JobStatus = .queued,
        submittedBy: String,
        submittedAt: Date = Date(),
        startedAt: Date? = nil,
        finishedAt: Date? = nil,
        roundsCompleted: Int = 0,
        message: String? = nil,
        finalModelSHA256: String? = nil
    ) {
        self.id = id
        self.name = name
        self.specJSON = specJSON
        self.status = status
        self.submittedBy = submittedBy
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.roundsCompleted = roundsCompleted
        self.message = message
        self.finalModelSHA256 = finalModelSHA256
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, message
        case specJSON = "spec_json"
        case submittedBy = "submitted_by"
        case submittedAt = "submitted_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case roundsCompleted = "rounds_completed"
        case finalModelSHA256 = "final_model_sha256"
    }

    init(row: Row) throws {
        let statusText = try row.text("status")
        guard let status = JobStatus(rawValue: statusText) else {
            throw StoreError(.database, "job status '\(statusText)' is unknown; the database was edited or is newer")
        }
        self.init(
            id: try row.text("id"),
            name: try row.text("name"),
            specJSON: try row.text("spec_json"),
            status: status,
            submittedBy: try row.text("submitted_by"),
            submittedAt: try row.timestamp("submitted_at"),
            startedAt: try row.optionalTimestamp("started_at"),
            finishedAt: try row.optionalTimestamp("finished_at"),
            roundsCompleted: Int(try row.integer("rounds_completed")),
            message: row["message"],
            finalModelSHA256: row["final_model_sha256"]
        )
    }
}
