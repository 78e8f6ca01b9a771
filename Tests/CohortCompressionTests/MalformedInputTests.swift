import CohortCompression
import CohortTensor
import Testing

@Suite("Malformed input")
struct MalformedInputTests {
    static let x = Fixtures.gaussian(1000, seed: 21)

    static func decodeError(_ bytes: [UInt8], count: Int = 1000) -> CompressionError? {
        #expect(throws: CompressionError.self) { try UpdateCodec.decode(bytes, expectedCount: count) }
    }

    @Test("wrong magic, version, layout, flags or value bits")
    func header() throws {
        let good = try Fixtures.encode(Self.x, "q8").bytes
        var bytes = good
        bytes[0] = 0x7B
        #expect(Self.decodeError(bytes)?.code == .badMagic)
        #expect(Self.decodeError(Array("{\"delta\": [1, 2]}".utf8))?.code == .badMagic)
        bytes = good
        bytes[4] = 2
        let version = Self.decodeError(bytes)
        #expect(version?.code == .unsupportedVersion)
        #expect(version?.message.contains("version 2") == true)
        for (offset, value) in [(5, UInt8(2)), (6, 0x10), (6, 2), (6, 4), (7, 16), (7, 0), (24, 17), (25, 0)] {
            bytes = good
            bytes[offset] = value
            #expect(Self.decodeError(bytes)?.code == .malformed, "byte \(offset) = \(value)")
        }
    }

    @Test("truncated header or payload, and trailing bytes")
    func lengths() throws {
        for spec in ["dense", "q4", "topk:0.05+q8"] {
            let good = try Fixtures.encode(Self.x, spec).bytes
            for cut in [0, 2, 4, 20, 35, 36, 37, good.count / 2, good.count - 1] {
                #expect(Self.decodeError(Array(good.prefix(cut)))?.code == .truncated, "\(spec) cut at \(cut)")
            }
            #expect(Self.decodeError(good + [0])?.code == .malformed)
        }
    }

    @Test("an element count other than the expected one")
    func countMismatch() throws {
        let good = try Fixtures.encode(Self.x, "q8").bytes
        let error = Self.decodeError(good, count: 1001)
        #expect(error?.code == .countMismatch)
        #expect(error?.message == "update has 1000 elements, 1001 were expected")
    }

    @Test("sparse indices outside the vector")
    func indexOutOfRange() {
        // Gaps 3 and 6 give indices 3 and 10 in a vector of 10.
        let varints = FormatTests.handBuilt(
            layout: 1, bits: 32, count: 10, sent: 2, block: 0, payload: FormatTests.le(1) + FormatTests.le(2) + [3, 6])
        #expect(Self.decodeError(varints, count: 10)?.code == .indexOutOfRange)
        // Bit 10 of a bitmap over 10 entries.
        let bitmap = FormatTests.handBuilt(
            layout: 1, flags: 4, bits: 32, count: 10, sent: 2, block: 0,
            payload: FormatTests.le(1) + FormatTests.le(2) + [1, 4])
        #expect(Self.decodeError(bitmap, count: 10)?.code == .indexOutOfRange)
        // A bitmap with fewer set bits than entries, and a varint longer than five bytes.
        let short = FormatTests.handBuilt(
            layout: 1, flags: 4, bits: 32, count: 10, sent: 2, block: 0,
            payload: FormatTests.le(1) + FormatTests.le(2) + [1, 0])
        #expect(Self.decodeError(short, count: 10)?.code == .malformed)
        let long = FormatTests.handBuilt(
            layout: 1, bits: 32, count: 10, sent: 1, block: 0,
            payload: FormatTests.le(1) + [0x80, 0x80, 0x80, 0x80, 0x80])
        #expect(Self.decodeError(long, count: 10)?.code == .malformed)
    }

    @Test("non-finite or inverted quantisation bounds, and non-finite Float32 values")
    func nonFinite() throws {
        let good = try Fixtures.encode(Self.x, "q8").bytes
        for (offset, value) in [(36, Float.nan), (40, .infinity), (36, -.infinity), (44, 1e30), (40, -1e30)] {
            var bytes = good
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: Float.self) }
            let error = Self.decodeError(bytes)
            #expect(error?.code == .nonFiniteValue, "\(value) at \(offset)")
        }
        var dense = try Fixtures.encode(Self.x, "dense").bytes
        dense.withUnsafeMutableBytes { $0.storeBytes(of: Float.nan, toByteOffset: 36 + 4 * 17, as: Float.self) }
        #expect(Self.decodeError(dense)?.message == "Float32 value 17 is nan")
    }

    @Test("corrupt or cut deflate streams")
    func deflate() throws {
        let n = 20_000
        let x = Fixtures.gaussian(n, seed: 22)
        for spec in ["dense+deflate", "q4+deflate", "topk:0.1+q8+deflate"] {
            let good = try Fixtures.encode(x, spec).bytes
            try #require(try Fixtures.header(good).isDeflated, "\(spec) was not deflated")
            var bytes = good
            bytes[36] ^= 0xFF  // zlib header
            #expect(Self.decodeError(bytes, count: n)?.code == .decompression)
            for cut in [37, good.count / 2, good.count - 1, good.count - 4] {
                let error = Self.decodeError(Array(good.prefix(cut)), count: n)
                #expect(error?.code == .truncated || error?.code == .decompression, "\(spec) cut at \(cut)")
            }
            bytes = good
            bytes[bytes.count - 2] ^= 0x01  // Adler-32 checksum
            #expect(Self.decodeError(bytes, count: n)?.code == .decompression)
            #expect(Self.decodeError(good + [0], count: n)?.code == .malformed)
        }
    }

    /// Random bit flips, byte overwrites, truncations, insertions and header-field rewrites of valid encodings:
    /// decoding must either throw a ``CompressionError`` or return a finite vector of the expected length.
    @Test(
        "random corruptions never crash and never return a vector of the wrong length",
        arguments: [
            "dense", "q8", "q4(block=32)", "topk:0.02", "topk:0.02+q8", "topk:0.4+q4", "q8+deflate",
            "dense+deflate", "topk:0.05+q8+deflate",
        ])
    func fuzz(spec: String) throws {
        let n = 1000
        let good = try Fixtures.encode(Self.x, spec).bytes
        var rng = RandomSource(seed: StableHash.fnv1a64(spec))
        var refused = 0, accepted = 0
        for _ in 0..<3000 {
            var bytes = good
            switch rng.uniformInt(below: 6) {
            case 0:
                for _ in 0...rng.uniformInt(below: 3) {
                    let bit = rng.uniformInt(below: bytes.count * 8)
                    bytes[bit / 8] ^= 1 << UInt8(bit % 8)
                }
            case 1:
                bytes[rng.uniformInt(below: bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
            case 2:
                bytes.removeLast(1 + rng.uniformInt(below: bytes.count))
            case 3:
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.uniformInt(below: bytes.count + 1))
            case 4:
                // A header field (count, entries, block size, payload size) set to a plausible or extreme value.
                let (offset, width) = [(8, 8), (16, 8), (24, 4), (28, 8)][rng.uniformInt(below: 4)]
                let candidates: [UInt64] = [
                    0, 1, 15, 16, UInt64(n - 1), UInt64(n), UInt64(n + 1), UInt64(good.count),
                    UInt64(UInt32.max), .max, rng.next(),
                ]
                let value = candidates[rng.uniformInt(below: candidates.count)]
                for b in 0..<width { bytes[offset + b] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(b))) }
            default:
                // Payload bytes overwritten in a run.
                let start = 36 + rng.uniformInt(below: max(1, bytes.count - 36))
                for i in start..<min(bytes.count, start + 1 + rng.uniformInt(below: 16)) {
                    bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            do {
                let y = try UpdateCodec.decode(bytes, expectedCount: n)
                #expect(y.count == n)
                #expect(y.allSatisfy { $0.isFinite })
                accepted += 1
            } catch {
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(refused > 0)
        #expect(refused + accepted == 3000)
    }
}
