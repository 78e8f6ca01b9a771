import Crypto
import Foundation

/// One entry of a ``HashChainedLog``, exactly as stored.
///
/// Encoded (for ``HashChainedLog/export(to:)``) with the database column names: `sequence`, `time`, `actor`,
/// `event`, `payload` (the canonical JSON text, as a string, so that hashes can be recomputed byte for byte),
/// `content_hashes`, `previous_hash`, `entry_hash`.
public struct LogEntry: Sendable, Hashable, Codable {
    /// Position in the log, 1-based and contiguous.
    public var sequence: Int64
    /// When the entry was appended: ISO 8601 UTC with milliseconds, e.g. `2025-01-31T09:05:00.125Z`.
    public var time: String
    /// Who caused the event: a certificate's common name, `coordinator`, a site name.
    public var actor: String
    /// What happened, e.g. `job.submitted`, `round.committed`, `egress.update`.
    public var event: String
    /// Canonical JSON text of the payload object (see ``LogValue``).
    public var payload: String
    /// Lowercase hex SHA-256 digests of bytes the entry refers to (a model update, a checkpoint).
    public var contentHashes: [String]
    /// ``entryHash`` of the previous entry; 64 zeros for the first entry.
    public var previousHash: String
    /// Lowercase hex SHA-256 over the other fields; see `computeHash(sequence:...)`.
    public var entryHash: String

    public init(
        sequence: Int64,
        time: String,
        actor: String,
        event: String,
        payload: String,
        contentHashes: [String],
        previousHash: String,
        entryHash: String
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.event = event
        self.payload = payload
        self.contentHashes = contentHashes
        self.previousHash = previousHash
        self.entryHash = entryHash
    }

    enum CodingKeys: String, CodingKey {
        case sequence, time, actor, event, payload
        case contentHashes = "content_hashes"
        case previousHash = "previous_hash"
        case entryHash = "entry_hash"
    }

    /// The payload decoded from its canonical text.
    public func payloadObject() throws -> [String: LogValue] {
        do {
            return try JSONDecoder().decode([String: LogValue].self, from: Data(self.payload.utf8))
        } catch {
            throw StoreError(.logCorrupt, "entry \(self.sequence)'s payload is not a JSON object; run verification")
        }
    }

    /// The `previousHash` of the first entry: 64 zeros.
    public static let genesisHash = Hex.zeroHash

    /// Whether ``entryHash`` matches the entry's other fields.
    public var hasValidHash: Bool {
        self.entryHash == self.recomputedHash(sequence: self.sequence)
    }

    /// The hash the entry would have if it were at `sequence`.
    func recomputedHash(sequence: Int64) -> String {
        Self.computeHash(
            sequence: sequence,
            time: self.time,
            actor: self.actor,
            event: self.event,
            payload: self.payload,
            contentHashes: self.contentHashes,
            previousHash: self.previousHash
        )
    }

    /// Computes an entry hash (version 1 of the encoding).
    ///
    /// SHA-256, lowercase hex, over the concatenation of, in order:
    /// 1. the domain tag `cohort.log.v1` as a field;
    /// 2. `sequence` as 8 bytes, big-endian two's complement;
    /// 3. `time`, `actor`, `event`, `payload` as fields;
    /// 4. the number of content hashes as 8 bytes big-endian, then each content hash as a field;
    /// 5. `previousHash` as a field;
    ///
    /// where a field is its UTF-8 byte count as 8 bytes big-endian followed by its UTF-8 bytes. Every part is length-
    /// prefixed, so no two different entries share an encoding (no separator can be forged by a field's content).
    public static func computeHash(
        sequence: Int64,
        time: String,
        actor: String,
        event: String,
        payload: String,
        contentHashes: [String],
        previousHash: String
    ) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(256 + payload.utf8.count + 72 * contentHashes.count)
        func integer(_ value: UInt64) {
            withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
        }
        func field(_ text: String) {
            integer(UInt64(text.utf8.count))
            bytes += text.utf8
        }
        field("cohort.log.v1")
        integer(UInt64(bitPattern: sequence))
        field(time)
        field(actor)
        field(event)
        field(payload)
        integer(UInt64(contentHashes.count))
        for hash in contentHashes { field(hash) }
        field(previousHash)
        return Hex.string(SHA256.hash(data: bytes))
    }
}
