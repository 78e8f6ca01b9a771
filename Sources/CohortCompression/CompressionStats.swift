/// Byte accounting for one encoded update (or, summed with `+`, for a site's or a round's uploads).
///
/// The runtime reports these per site and round: what the update would have cost as Float32 (``denseBytes``),
/// what was sent (``encodedBytes``, header included), and the ratio of the two.
public struct CompressionStats: Sendable, Hashable, Codable {
    /// Elements in the update vector.
    public var count: Int
    /// Entries sent (the vector length, or k for top-k).
    public var sentCount: Int
    /// Bytes of the update as plain Float32 values (`4 * count`).
    public var denseBytes: Int
    /// Bytes of the encoded update, header included: what goes on the wire.
    public var encodedBytes: Int
    /// Bytes the encoded update would have had without deflate (equal to ``encodedBytes`` when not deflated).
    public var bytesBeforeDeflate: Int

    /// Creates stats.
    public init(count: Int, sentCount: Int, denseBytes: Int, encodedBytes: Int, bytesBeforeDeflate: Int) {
        self.count = count
        self.sentCount = sentCount
        self.denseBytes = denseBytes
        self.encodedBytes = encodedBytes
        self.bytesBeforeDeflate = bytesBeforeDeflate
    }

    /// No updates.
    public static let zero = CompressionStats(
        count: 0, sentCount: 0, denseBytes: 0, encodedBytes: 0, bytesBeforeDeflate: 0)

    /// Dense bytes per encoded byte (e.g. 4 for 8-bit quantisation); 1 when nothing was encoded.
    public var ratio: Double {
        self.encodedBytes > 0 ? Double(self.denseBytes) / Double(self.encodedBytes) : 1
    }

    /// Whether deflate made the encoding smaller (and was therefore kept).
    public var isDeflated: Bool { self.encodedBytes < self.bytesBeforeDeflate }

    /// The totals of two sets of updates.
    public static func + (lhs: CompressionStats, rhs: CompressionStats) -> CompressionStats {
        CompressionStats(
            count: lhs.count + rhs.count, sentCount: lhs.sentCount + rhs.sentCount,
            denseBytes: lhs.denseBytes + rhs.denseBytes, encodedBytes: lhs.encodedBytes + rhs.encodedBytes,
            bytesBeforeDeflate: lhs.bytesBeforeDeflate + rhs.bytesBeforeDeflate)
    }

    /// Adds another update's stats.
    public static func += (lhs: inout CompressionStats, rhs: CompressionStats) {
        lhs = lhs + rhs
    }
}
