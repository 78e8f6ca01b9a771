public import Foundation
import GRDB

/// A committed round as stored in the `rounds` table.
public struct RoundRow: Sendable, Hashable, Codable {
    public var jobID: String
    /// 1-based round number.
    public var round: Int
    public var finishedAt: Date
    /// SHA-256 of the global model checkpoint after this round.
    public var modelSHA256: String
    /// The strategy's server-side state after this round (JSON text), enough to resume.
    public var serverStateJSON: String
    /// The round record for reports (JSON text).
    public var recordJSON: String

    public init(
        jobID: String,
        round: Int,
        finishedAt: Date,
        modelSHA256: String,
        serverStateJSON: String,
        recordJSON: String
    ) {
        self.jobID = jobID
        self.round = round
        self.finishedAt = finishedAt
        self.modelSHA256 = modelSHA256
        self.serverStateJSON = serverStateJSON
        self.recordJSON = recordJSON
    }

    enum CodingKeys: String, CodingKey {
        case round
        case jobID = "job_id"
        case finishedAt = "finished_at"
        case modelSHA256 = "model_sha256"
        case serverStateJSON = "server_state_json"
        case recordJSON = "record_json"
    }

    init(row: Row) throws {
        self.init(
            jobID: try row.text("job_id"),
            round: Int(try row.integer("round")),
            finishedAt: try row.timestamp("finished_at"),
            modelSHA256: try row.text("model_sha256"),
            serverStateJSON: try row.text("server_state_json"),
            recordJSON: try row.text("record_json")
        )
    }
}

/// One site's metrics for a committed round, as stored in the `round_metrics` table.
public struct RoundMetricsRow: Sendable, Hashable, Codable {
    public var jobID: String
    public var round: Int
    public var site: String
    /// The site's reported metrics (JSON text).
    public var metricsJSON: String

    public init(jobID: String, round: Int, site: String, metricsJSON: String) {
        self.jobID = jobID
        self.round = round
        self.site = site
        self.metricsJSON = metricsJSON
    }

    enum CodingKeys: String, CodingKey {
        case round, site
        case jobID = "job_id"
        case metricsJSON = "metrics_json"
    }

    init(row: Row) throws {
        self.init(
            jobID: try row.text("job_id"),
            round: Int(try row.integer("round")),
            site: try row.text("site"),
            metricsJSON: try row.text("metrics_json")
        )
    }
}
