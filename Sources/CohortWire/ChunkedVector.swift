import CohortModel
import Crypto
public import SwiftProtobuf

/// Splitting a Float32 vector into wire chunks, and assembling chunks back with integrity checks.
///
/// The receiver allocates the final buffer once from the header (element count, byte count, SHA-256) and copies
/// each chunk into place, so a transfer holds about one model in memory, not a list of chunks plus a copy.
public struct VectorAssembler: Sendable {
    public let expected: Cohort_V1_ModelRef
    public private(set) var received = 0
    var buffer: [Float]
    var hasher: SHA256?

    /// Starts assembling a vector described by a header, refusing sizes above `limit` bytes.
    ///
    /// - Parameter verifyHash: Check the SHA-256 of the bytes against the header (off for transfers whose source
    ///   already verified them and whose channel authenticates every byte, such as a checkpoint sent over TLS).
    public init(header: Cohort_V1_ModelRef, limit: Int, verifyHash: Bool = true) throws(WireError) {
        guard header.byteCount == header.elementCount * 4 else {
            throw WireError(.invalidMessage, "header says \(header.elementCount) Float32 values in \(header.byteCount) bytes")
        }
        guard header.byteCount <= UInt64(limit) else {
            throw WireError(.tooLarge, "transfer of \(header.byteCount) bytes exceeds the limit of \(limit) bytes")
        }
        guard header.sha256.count == 64, header.sha256.allSatisfy(\.isHexDigit) else {
            throw WireError(.invalidMessage, "header has no valid SHA-256")
        }
        self.expected = header
        // Every byte is overwritten by the chunks; skip zero-filling (finish() refuses an incomplete transfer).
        self.buffer = [Float](unsafeUninitializedCapacity: Int(header.elementCount)) { _, count in count = Int(header.elementCount) }
        self.hasher = verifyHash ? SHA256() : nil
    }

    /// Appends the next chunk.
    public mutating func append(_ chunk: some Collection<UInt8>) throws(WireError) {
        guard self.received + chunk.count <= Int(self.expected.byteCount) else {
            throw WireError(.tooLarge, "received more than the announced \(self.expected.byteCount) bytes")
        }
        let offset = self.received
        let copied: Bool = self.buffer.withUnsafeMutableBytes { dst in
            chunk.withContiguousStorageIfAvailable { src in
                UnsafeMutableRawBufferPointer(rebasing: dst[offset..<(offset + src.count)]).copyMemory(from: UnsafeRawBufferPointer(src))
                self.hasher?.update(bufferPointer: UnsafeRawBufferPointer(src))
                return true
            } ?? false
        }
        if !copied {
            let bytes = Array(chunk)
            self.buffer.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[offset..<(offset + bytes.count)]).copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: bytes.count))
            }
            self.hasher?.update(data: bytes)
        }
        self.received += chunk.count
    }

    /// The vector, once every byte arrived and the SHA-256 matches.
    public func finish() throws(WireError) -> [Float] {
        guard self.received == Int(self.expected.byteCount) else {
            throw WireError(.incomplete, "received \(self.received) of \(self.expected.byteCount) bytes")
        }
        guard let hasher = self.hasher else { return self.buffer }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == self.expected.sha256.lowercased() else {
            throw WireError(.integrity, "SHA-256 \(digest) does not match the announced \(self.expected.sha256)")
        }
        return self.buffer
    }
}

/// Assembles an encoded (compressed) update's bytes from chunks, checking the announced size and SHA-256; the
/// announced element count is the decoded length, checked by the decoder.
public struct ByteAssembler: Sendable {
    public let expected: Cohort_V1_ModelRef
    public private(set) var bytes: [UInt8]
    var hasher = SHA256()

    /// Starts assembling, refusing encoded sizes above `limit` bytes and decoded sizes above `decodedLimit` bytes.
    public init(header: Cohort_V1_ModelRef, limit: Int, decodedLimit: Int) throws(WireError) {
        guard header.byteCount <= UInt64(limit) else {
            throw WireError(.tooLarge, "transfer of \(header.byteCount) bytes exceeds the limit of \(limit) bytes")
        }
        guard header.elementCount <= UInt64(decodedLimit / 4) else {
            throw WireError(.tooLarge, "an update of \(header.elementCount) values exceeds the limit of \(decodedLimit) bytes once decoded")
        }
        guard header.sha256.count == 64, header.sha256.allSatisfy(\.isHexDigit) else {
            throw WireError(.invalidMessage, "header has no valid SHA-256")
        }
        self.expected = header
        self.bytes = []
        self.bytes.reserveCapacity(Int(header.byteCount))
    }

    public var received: Int { self.bytes.count }

    public mutating func append(_ chunk: some Collection<UInt8>) throws(WireError) {
        guard self.bytes.count + chunk.count <= Int(self.expected.byteCount) else {
            throw WireError(.tooLarge, "received more than the announced \(self.expected.byteCount) bytes")
        }
        self.bytes.append(contentsOf: chunk)
    }

    /// The bytes, once all arrived and the SHA-256 matches.
    public func finish() throws(WireError) -> [UInt8] {
        guard self.bytes.count == Int(self.expected.byteCount) else {
            throw WireError(.incomplete, "received \(self.bytes.count) of \(self.expected.byteCount) bytes")
        }
        var h = self.hasher
        h.update(data: self.bytes)
        let digest = h.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == self.expected.sha256.lowercased() else {
            throw WireError(.integrity, "SHA-256 \(digest) does not match the announced \(self.expected.sha256)")
        }
        return self.bytes
    }
}

extension Cohort_V1_ModelRef {
    /// The reference (element count, byte count, SHA-256) of a vector.
    public init(vector: [Float]) {
        self.init()
        self.elementCount = UInt64(vector.count)
        self.byteCount = UInt64(vector.count * 4)
        self.sha256 = vector.withUnsafeBytes { Safetensors.sha256Hex($0) }
    }
}

extension SwiftProtobuf.Message {
    /// The message's binary encoding (for byte counts and hashes in logs).
    public func wireBytes() -> [UInt8] {
        (try? self.serializedBytes()) ?? []
    }

    /// The size of the message's binary encoding.
    public var wireSize: Int { self.wireBytes().count }
}

/// The byte ranges of a vector's chunks of at most `chunkBytes`.
public func chunkRanges(byteCount: Int, chunkBytes: Int = WireProtocol.chunkBytes) -> [Range<Int>] {
    stride(from: 0, to: byteCount, by: chunkBytes).map { $0..<min(byteCount, $0 + chunkBytes) }
}

/// One chunk of a vector's little-endian bytes, copied straight from the vector (no full-size intermediate copy).
public func vectorChunk(_ vector: [Float], _ range: Range<Int>) -> Data {
    vector.withUnsafeBytes { Data(UnsafeRawBufferPointer(rebasing: $0[range])) }
}

/// One chunk of a byte buffer.
public func byteChunk(_ bytes: [UInt8], _ range: Range<Int>) -> Data {
    bytes.withUnsafeBytes { Data(UnsafeRawBufferPointer(rebasing: $0[range])) }
}

import Foundation
