import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Expands a 256-bit key into a stream of mask words: AES-256 in counter mode over zero blocks (the keystream),
/// read as little-endian words of 8 bytes, or of 4 bytes when the modulus has at most 32 bits.
///
/// Words are added or subtracted with wrapping `UInt64` arithmetic, i.e. modulo 2^64; since 2^modulusBits divides
/// 2^64, reducing once at the end gives the sum modulo 2^modulusBits, and the low `modulusBits` bits of a uniform
/// word are uniform. The keystream is produced in chunks of 2,048 words (8 or 16 KiB, so keystream and accumulators stay in L1/L2) (block counter in the last 8 nonce bytes,
/// big-endian), so each chunk is consumed while it is still in cache: one cipher call per chunk and no per-element
/// work beyond one load and one add.
enum MaskGenerator {
    /// Words per keystream chunk.
    static let chunkWords = 2048
    static let zeros = [UInt8](repeating: 0, count: MaskGenerator.chunkWords * 8)

    /// Adds (or subtracts) the mask expanded from `key` to `words`, `wordBytes` (4 or 8) of keystream per word.
    static func accumulate(_ key: SymmetricKey, into words: UnsafeMutableBufferPointer<UInt64>, subtract: Bool, wordBytes: Int) {
        precondition(wordBytes == 4 || wordBytes == 8, "mask words are 4 or 8 bytes")
        var start = 0
        while start < words.count {
            let count = min(Self.chunkWords, words.count - start)
            let stream = Self.keystream(key, blockOffset: UInt64(start * wordBytes / 16), bytes: count * wordBytes)
            let out = UnsafeMutableBufferPointer(rebasing: words[start..<(start + count)])
            stream.withUnsafeBytes { raw in
                if wordBytes == 8 {
                    Self.add(raw, as: UInt64.self, into: out, subtract: subtract)
                } else {
                    Self.add(raw, as: UInt32.self, into: out, subtract: subtract)
                }
            }
            start += count
        }
    }

    @inline(__always)
    private static func add<W: FixedWidthInteger & UnsignedInteger>(
        _ raw: UnsafeRawBufferPointer, as: W.Type, into out: UnsafeMutableBufferPointer<UInt64>, subtract: Bool
    ) {
        let count = out.count
        if Int(bitPattern: raw.baseAddress) % MemoryLayout<W>.alignment == 0 {
            let ks = raw.assumingMemoryBound(to: W.self)
            if subtract {
                for i in 0..<count { out[i] &-= UInt64(W(littleEndian: ks[i])) }
            } else {
                for i in 0..<count { out[i] &+= UInt64(W(littleEndian: ks[i])) }
            }
        } else {
            for i in 0..<count {
                let w = UInt64(W(littleEndian: raw.loadUnaligned(fromByteOffset: MemoryLayout<W>.size * i, as: W.self)))
                out[i] = subtract ? out[i] &- w : out[i] &+ w
            }
        }
    }

    private static func keystream(_ key: SymmetricKey, blockOffset: UInt64, bytes: Int) -> Data {
        var nonce = [UInt8](repeating: 0, count: 16)
        for b in 0..<8 { nonce[15 - b] = UInt8(truncatingIfNeeded: blockOffset >> (8 * b)) }
        do {
            let n = try AES._CTR.Nonce(nonceBytes: nonce)
            return try AES._CTR.encrypt(Self.zeros[0..<bytes], using: key, nonce: n)
        } catch {
            preconditionFailure("AES-CTR with a 256-bit key and a 16-byte nonce cannot fail: \(error)")
        }
    }
}
