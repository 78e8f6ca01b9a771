import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Expands a 256-bit key into a stream of mask words: AES-256 in counter mode over zero blocks (the keystream),
/// read as little-endian `UInt64` words.
///
/// Words are added or subtracted with wrapping arithmetic, i.e. modulo 2^64; since 2^modulusBits divides 2^64,
/// reducing once at the end gives the sum modulo 2^modulusBits, and the low `modulusBits` bits of a uniform word are
/// uniform. The keystream is produced in 64 KiB chunks (block counter in the last 8 nonce bytes, big-endian), so
/// each chunk is consumed while it is still in cache; there is one cipher call per chunk and no per-element work
/// beyond one load and one add.
enum MaskGenerator {
    /// Words per keystream chunk.
    static let chunkWords = 8192
    static let zeros = [UInt8](repeating: 0, count: MaskGenerator.chunkWords * 8)

    /// Adds (or subtracts) the mask expanded from `key` to `words`.
    static func accumulate(_ key: SymmetricKey, into words: UnsafeMutableBufferPointer<UInt64>, subtract: Bool) {
        var start = 0
        while start < words.count {
            let count = min(Self.chunkWords, words.count - start)
            let stream = Self.keystream(key, blockOffset: UInt64(start / 2), bytes: count * 8)
            stream.withUnsafeBytes { raw in
                let out = UnsafeMutableBufferPointer(rebasing: words[start..<(start + count)])
                if Int(bitPattern: raw.baseAddress) % MemoryLayout<UInt64>.alignment == 0 {
                    let ks = raw.assumingMemoryBound(to: UInt64.self)
                    if subtract {
                        for i in 0..<count { out[i] &-= UInt64(littleEndian: ks[i]) }
                    } else {
                        for i in 0..<count { out[i] &+= UInt64(littleEndian: ks[i]) }
                    }
                } else {
                    for i in 0..<count {
                        let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                        out[i] = subtract ? out[i] &- w : out[i] &+ w
                    }
                }
            }
            start += count
        }
    }

    /// The first `count` mask words for `key` (for tests and statistics).
    static func words(_ key: SymmetricKey, count: Int) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        words.withUnsafeMutableBufferPointer { Self.accumulate(key, into: $0, subtract: false) }
        return words
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
