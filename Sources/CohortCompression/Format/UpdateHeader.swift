#if !_endian(little)
    #error("The update format stores Float32 values as little-endian memory images; add byte swapping for this host.")
#endif

/// The fixed 36-byte header that starts every encoded update, so that a decoder needs nothing but the bytes.
///
/// All integers are little-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `CUPD` (`43 55 50 44`) |
/// | 4 | 1 | format version (1) |
/// | 5 | 1 | layout: 0 every entry, 1 sparse (top-k: values and indices) |
/// | 6 | 1 | flags: bit 0 payload deflated (zlib, RFC 1950), bit 1 Float32 byte planes before deflate, bit 2 sparse indices as a bitmap (else delta varints); other bits 0 |
/// | 7 | 1 | value bits: 32 (Float32), 8 or 4 (quantised) |
/// | 8 | 8 | element count of the update |
/// | 16 | 8 | entries sent (the count, or k) |
/// | 24 | 4 | quantisation block size (0 for Float32 values) |
/// | 28 | 8 | payload bytes before deflate |
///
/// The payload follows. Its values section holds the sent values in index order: `4n` bytes of Float32, or for
/// quantised values `ceil(n / block)` pairs of Float32 (minimum, maximum) followed by the levels, one byte per value
/// (8 bits) or two values per byte, the first in the low nibble (4 bits). A value decodes as
/// `min(minimum + level * (maximum - minimum) / (2^bits - 1), maximum)`. Sparse payloads follow the values with
/// the indices: either a bitmap of `ceil(count / 8)` bytes (bit `i % 8` of byte `i / 8`), or the gaps between
/// consecutive ascending indices (`first index`, then `index - previous - 1`) as unsigned LEB128 varints.
public struct UpdateHeader: Sendable, Hashable {
    /// The magic bytes, ASCII `CUPD` ("Cohort update").
    public static let magic: [UInt8] = [0x43, 0x55, 0x50, 0x44]
    /// The format version this build writes and reads.
    public static let currentVersion: UInt8 = 1
    /// Header size in bytes.
    public static let byteCount = 36
    /// The largest element count the format accepts (indices are 32-bit).
    public static let maximumCount = Int(UInt32.max)

    /// Format version.
    public var version: UInt8
    /// Whether only some entries are sent, with their indices.
    public var isSparse: Bool
    /// Whether the payload is deflated.
    public var isDeflated: Bool
    /// Whether the Float32 payload was split into byte planes before deflate (dense Float32 only).
    public var hasBytePlanes: Bool
    /// Whether sparse indices are a bitmap rather than delta varints.
    public var hasBitmapIndices: Bool
    /// Bits per value: 32 (Float32), 8 or 4.
    public var valueBits: Int
    /// Elements in the update.
    public var count: Int
    /// Entries sent.
    public var sentCount: Int
    /// Values per quantisation block (0 for Float32 values).
    public var blockSize: Int
    /// Payload size before deflate.
    public var payloadBytes: Int

    init(
        isSparse: Bool, isDeflated: Bool, hasBytePlanes: Bool, hasBitmapIndices: Bool, valueBits: Int, count: Int,
        sentCount: Int, blockSize: Int, payloadBytes: Int
    ) {
        self.version = Self.currentVersion
        self.isSparse = isSparse
        self.isDeflated = isDeflated
        self.hasBytePlanes = hasBytePlanes
        self.hasBitmapIndices = hasBitmapIndices
        self.valueBits = valueBits
        self.count = count
        self.sentCount = sentCount
        self.blockSize = blockSize
        self.payloadBytes = payloadBytes
    }

    /// Reads and checks the header at the start of `bytes` (the payload is not examined).
    ///
    /// - Throws: ``CompressionError`` if the bytes are too short, the magic or version is wrong, or the fields are
    ///   inconsistent with each other.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(CompressionError) {
        guard bytes.count >= Self.magic.count else {
            throw CompressionError(.truncated, "\(bytes.count) bytes is shorter than the update magic")
        }
        guard bytes.prefix(Self.magic.count).elementsEqual(Self.magic) else {
            throw CompressionError(
                .badMagic, "bytes do not start with the update magic CUPD (got \(Self.hex(bytes.prefix(4))))")
        }
        guard bytes.count >= Self.byteCount else {
            throw CompressionError(.truncated, "\(bytes.count) bytes is shorter than the \(Self.byteCount)-byte header")
        }
        self.version = bytes[4]
        guard self.version == Self.currentVersion else {
            throw CompressionError(
                .unsupportedVersion, "format version \(self.version) is not supported (this build reads 1)")
        }
        let layout = bytes[5], flags = bytes[6]
        guard layout <= 1 else { throw CompressionError(.malformed, "unknown layout \(layout)") }
        guard flags & ~0b111 == 0 else { throw CompressionError(.malformed, "unknown flags \(flags)") }
        self.isSparse = layout == 1
        self.isDeflated = flags & 1 != 0
        self.hasBytePlanes = flags & 2 != 0
        self.hasBitmapIndices = flags & 4 != 0
        self.valueBits = Int(bytes[7])
        let count = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        let sent = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
        let payload = bytes.loadUnaligned(fromByteOffset: 28, as: UInt64.self).littleEndian
        guard count <= UInt64(Self.maximumCount), sent <= count, payload <= UInt64(Int.max / 2) else {
            throw CompressionError(
                .malformed, "count \(count), entries \(sent) or payload size \(payload) is out of range")
        }
        self.count = Int(count)
        self.sentCount = Int(sent)
        self.blockSize = Int(bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self).littleEndian)
        self.payloadBytes = Int(payload)
    }

    /// Checks that the fields agree with each other and that `payloadBytes` is the size they imply.
    func validate() throws(CompressionError) {
        switch self.valueBits {
        case 32:
            guard self.blockSize == 0 else { throw CompressionError(.malformed, "Float32 values with a block size") }
        case 8, 4:
            guard (16...65536).contains(self.blockSize), self.blockSize % 16 == 0 else {
                throw CompressionError(.malformed, "block size \(self.blockSize) is not a multiple of 16 in 16...65536")
            }
        default:
            throw CompressionError(.malformed, "\(self.valueBits) bits per value is not 32, 8 or 4")
        }
        guard !self.hasBytePlanes || (self.isDeflated && !self.isSparse && self.valueBits == 32) else {
            throw CompressionError(.malformed, "byte planes are only used for deflated dense Float32 payloads")
        }
        guard !self.hasBitmapIndices || self.isSparse else {
            throw CompressionError(.malformed, "a bitmap of indices in a dense layout")
        }
        let values = Self.valuesBytes(count: self.sentCount, bits: self.valueBits, blockSize: self.blockSize)
        if !self.isSparse {
            guard self.sentCount == self.count else {
                throw CompressionError(.malformed, "dense layout sends \(self.sentCount) of \(self.count) entries")
            }
            guard self.payloadBytes == values else {
                throw CompressionError(.malformed, "payload of \(self.payloadBytes) bytes, expected \(values)")
            }
        } else if self.hasBitmapIndices {
            let expected = values + (self.count + 7) / 8
            guard self.payloadBytes == expected else {
                throw CompressionError(.malformed, "payload of \(self.payloadBytes) bytes, expected \(expected)")
            }
        } else {
            let indices = self.payloadBytes - values
            guard indices >= self.sentCount, indices <= 5 * self.sentCount else {
                throw CompressionError(
                    .malformed, "\(indices) index bytes cannot hold \(self.sentCount) varint gaps")
            }
        }
    }

    /// Bytes of the values section for `count` values.
    static func valuesBytes(count: Int, bits: Int, blockSize: Int) -> Int {
        if bits == 32 { return 4 * count }
        let blocks = (count + blockSize - 1) / blockSize
        return 8 * blocks + (bits == 8 ? count : (count + 1) / 2)
    }

    /// Writes the header into the first ``byteCount`` bytes of `out`.
    func write(to out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= Self.byteCount)
        for (i, b) in Self.magic.enumerated() { out[i] = b }
        out[4] = self.version
        out[5] = self.isSparse ? 1 : 0
        out[6] = (self.isDeflated ? 1 : 0) | (self.hasBytePlanes ? 2 : 0) | (self.hasBitmapIndices ? 4 : 0)
        out[7] = UInt8(self.valueBits)
        out.storeBytes(of: UInt64(self.count).littleEndian, toByteOffset: 8, as: UInt64.self)
        out.storeBytes(of: UInt64(self.sentCount).littleEndian, toByteOffset: 16, as: UInt64.self)
        out.storeBytes(of: UInt32(self.blockSize).littleEndian, toByteOffset: 24, as: UInt32.self)
        out.storeBytes(of: UInt64(self.payloadBytes).littleEndian, toByteOffset: 28, as: UInt64.self)
    }

    private static func hex(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: " ")
    }
}
