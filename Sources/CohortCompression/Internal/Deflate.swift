import CompressNIO
import NIOCore

/// The lossless layer: zlib (RFC 1950: deflate with an Adler-32 checksum) through CompressNIO, and the byte-plane
/// transform that lets deflate see the low-entropy sign-and-exponent bytes of Float32 values together.
enum Deflate {
    /// Huffman coding only: quantised levels, varint gaps and Float32 mantissas have almost no repeated strings, so
    /// the gain is entropy coding of skewed byte frequencies. On 1M Gaussian values Huffman-only gave the smallest
    /// output for every codec and ran 3-4x faster than level 1 (see docs/compression.md).
    static let configuration = ZlibConfiguration(strategy: .huffmanOnly)

    /// Payloads at or above this size are sent without deflate (zlib counts input in 32-bit words).
    static let maximumInput = Int(UInt32.max) - 1

    /// Deflates `input`; nil if the result is not smaller than the input.
    static func compress(_ input: inout ByteBuffer) -> ByteBuffer? {
        let size = input.readableBytes
        guard size > 0, size < Self.maximumInput else { return nil }
        do {
            let compressor = try ZlibCompressor(algorithm: .zlib, configuration: Self.configuration)
            var out = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
            try compressor.deflate(from: &input, to: &out, flush: .finish)
            return out.readableBytes < size ? out : nil
        } catch {
            return nil
        }
    }

    /// Inflates `input`, which must decompress to exactly `expectedBytes` and end its zlib stream with nothing after.
    ///
    /// The output buffer is bounded by `expectedBytes`, so a hostile stream cannot make it grow.
    static func decompress(_ input: UnsafeRawBufferPointer, expectedBytes: Int) throws(CompressionError) -> ByteBuffer {
        guard !input.isEmpty else { throw CompressionError(.truncated, "deflated payload is empty") }
        var source = ByteBufferAllocator().buffer(bytes: input)
        var out = ByteBufferAllocator().buffer(capacity: expectedBytes + 64)
        do {
            let inflater = try ZlibDecompressor(algorithm: .zlib)
            try inflater.inflate(from: &source, to: &out)
            guard source.readableBytes > 0 || out.readableBytes >= expectedBytes else {
                throw CompressionError(
                    .truncated, "deflate stream ends after \(out.readableBytes) of \(expectedBytes) payload bytes")
            }
            guard out.readableBytes == expectedBytes else {
                throw CompressionError(
                    .decompression, "payload inflates to \(out.readableBytes) bytes, the header says \(expectedBytes)")
            }
            guard source.readableBytes == 0 else {
                throw CompressionError(.malformed, "\(source.readableBytes) bytes after the end of the deflate stream")
            }
            // A stream that has ended leaves a further input byte unread; one cut short would take it.
            var probe = ByteBufferAllocator().buffer(bytes: [0])
            try inflater.inflate(from: &probe, to: &out)
            guard probe.readableBytes == 1, out.readableBytes == expectedBytes else {
                throw CompressionError(.truncated, "deflate stream is cut short")
            }
            return out
        } catch let error as CompressionError {
            throw error
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            throw CompressionError(.truncated, "deflate stream is cut short")
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw CompressionError(
                .decompression, "payload inflates to more than the \(expectedBytes) bytes the header says")
        } catch {
            throw CompressionError(.decompression, "corrupt deflate stream (\(error))")
        }
    }

    /// Splits `count` Float32 values into four byte planes (all first bytes, then all second bytes, ...).
    static func splitPlanes(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) {
        var i = 0
        while i + 16 <= count {
            let v = src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<UInt32>.self)
            for p in 0..<4 {
                let plane = SIMD16<UInt8>(truncatingIfNeeded: v &>> UInt32(8 * p))
                dst.storeBytes(of: plane, toByteOffset: p * count + i, as: SIMD16<UInt8>.self)
            }
            i += 16
        }
        while i < count {
            for p in 0..<4 {
                dst.storeBytes(
                    of: src.load(fromByteOffset: 4 * i + p, as: UInt8.self), toByteOffset: p * count + i, as: UInt8.self
                )
            }
            i += 1
        }
    }

    /// Joins four byte planes of `count` values back into Float32 values.
    static func joinPlanes(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer) {
        var i = 0
        while i + 16 <= count {
            var v = SIMD16<UInt32>()
            for p in 0..<4 {
                let plane = src.loadUnaligned(fromByteOffset: p * count + i, as: SIMD16<UInt8>.self)
                v |= SIMD16<UInt32>(truncatingIfNeeded: plane) &<< UInt32(8 * p)
            }
            dst.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD16<UInt32>.self)
            i += 16
        }
        while i < count {
            for p in 0..<4 {
                dst.storeBytes(
                    of: src.load(fromByteOffset: p * count + i, as: UInt8.self), toByteOffset: 4 * i + p, as: UInt8.self
                )
            }
            i += 1
        }
    }
}
