import CohortTensor
import NIOCore

extension UpdateCodec {
    /// Decodes an update encoded by ``encode(_:spec:rng:feedback:)``; entries a sparse update did not send are zero.
    ///
    /// Every field is checked before it is used: a malformed, truncated or hostile input is refused with an error,
    /// never a trap, and a decoded vector always has `expectedCount` finite elements.
    ///
    /// - Parameters:
    ///   - bytes: The encoded update.
    ///   - expectedCount: The element count the caller expects (the model's parameter count).
    /// - Throws: ``CompressionError`` (`badMagic`, `unsupportedVersion`, `truncated`, `countMismatch`,
    ///   `indexOutOfRange`, `nonFiniteValue`, `malformed`, `decompression`).
    public static func decode(_ bytes: [UInt8], expectedCount: Int) throws(CompressionError) -> [Float] {
        var result: Result<[Float], CompressionError> = .success([])
        bytes.withUnsafeBytes { raw in
            do throws(CompressionError) {
                result = .success(try Self.decode(raw, expectedCount: expectedCount))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes an update from raw bytes (e.g. a `ByteBuffer`'s readable bytes) without copying them first.
    public static func decode(_ bytes: UnsafeRawBufferPointer, expectedCount: Int) throws(CompressionError) -> [Float] {
        let header = try UpdateHeader(parsing: bytes)
        guard header.count == expectedCount else {
            throw CompressionError(
                .countMismatch, "update has \(header.count) elements, \(expectedCount) were expected")
        }
        try header.validate()
        let rest = UnsafeRawBufferPointer(rebasing: bytes[UpdateHeader.byteCount...])
        guard header.isDeflated else {
            guard rest.count >= header.payloadBytes else {
                throw CompressionError(
                    .truncated, "payload has \(rest.count) of \(header.payloadBytes) bytes")
            }
            guard rest.count == header.payloadBytes else {
                throw CompressionError(.malformed, "\(rest.count - header.payloadBytes) bytes after the payload")
            }
            return try Self.decodePayload(rest, header: header)
        }
        let inflated = try Deflate.decompress(rest, expectedBytes: header.payloadBytes)
        return try inflated.withUnsafeReadableBytes { payload throws(CompressionError) in
            guard header.hasBytePlanes else { return try Self.decodePayload(payload, header: header) }
            let out = [Float](unsafeUninitializedCapacity: header.count) { buf, count in
                if header.count > 0 {
                    Deflate.joinPlanes(
                        payload.baseAddress!, count: header.count, into: UnsafeMutableRawPointer(buf.baseAddress!))
                }
                count = header.count
            }
            try Self.checkFinite(out)
            return out
        }
    }

    /// Decodes a plain payload of exactly `header.payloadBytes` bytes.
    private static func decodePayload(_ payload: UnsafeRawBufferPointer, header: UpdateHeader) throws(CompressionError)
        -> [Float]
    {
        let k = header.sentCount
        let valuesBytes = UpdateHeader.valuesBytes(count: k, bits: header.valueBits, blockSize: header.blockSize)
        let valuesIn = UnsafeRawBufferPointer(rebasing: payload[..<valuesBytes])
        if !header.isSparse {
            var failure: CompressionError?
            let out = [Float](unsafeUninitializedCapacity: k) { buf, count in
                failure = Self.decodeValues(
                    valuesIn, header: header, into: UnsafeMutableBufferPointer(rebasing: buf[..<k]))
                count = failure == nil ? k : 0
            }
            if let failure { throw failure }
            return out
        }
        var values = [Float](repeating: 0, count: k)
        if let failure = values.withUnsafeMutableBufferPointer({ Self.decodeValues(valuesIn, header: header, into: $0) }
        ) {
            throw failure
        }
        var out = [Float](repeating: 0, count: header.count)
        let indexIn = UnsafeRawBufferPointer(rebasing: payload[valuesBytes...])
        var failure: CompressionError?
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                do throws(CompressionError) {
                    if header.hasBitmapIndices {
                        try IndexCoding.scatterBitmap(indexIn, values: v, into: o)
                    } else {
                        try IndexCoding.scatterVarints(indexIn, values: v, into: o)
                    }
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Decodes a values section into `out` (all of it is written on success); returns the error instead of throwing
    /// so that it can run inside an initializer closure.
    private static func decodeValues(
        _ input: UnsafeRawBufferPointer, header: UpdateHeader, into out: UnsafeMutableBufferPointer<Float>
    ) -> CompressionError? {
        if header.valueBits == 32 {
            if !out.isEmpty { UnsafeMutableRawBufferPointer(out).copyMemory(from: input) }
            guard Vector.allFinite(UnsafeBufferPointer(out)) else {
                let bad = out.firstIndex { !$0.isFinite } ?? 0
                return CompressionError(.nonFiniteValue, "Float32 value \(bad) is \(out[bad])")
            }
            return nil
        }
        do throws(CompressionError) {
            try BlockQuantizer.decode(input, bits: header.valueBits, blockSize: header.blockSize, into: out)
            return nil
        } catch {
            out.update(repeating: 0)
            return error
        }
    }

    private static func checkFinite(_ x: [Float]) throws(CompressionError) {
        guard !x.allFinite else { return }
        let bad = x.firstIndex { !$0.isFinite } ?? 0
        throw CompressionError(.nonFiniteValue, "Float32 value \(bad) is \(x[bad])")
    }
}
