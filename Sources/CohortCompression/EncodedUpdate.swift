/// An encoded update: the self-describing bytes to send (see ``UpdateHeader``) and their byte accounting.
public struct EncodedUpdate: Sendable, Hashable {
    /// Header and payload, ready to send; ``UpdateCodec/decode(_:expectedCount:)`` reads them back.
    public var bytes: [UInt8]
    /// Sizes of the update before and after encoding.
    public var stats: CompressionStats

    /// Creates an encoded update.
    public init(bytes: [UInt8], stats: CompressionStats) {
        self.bytes = bytes
        self.stats = stats
    }
}
