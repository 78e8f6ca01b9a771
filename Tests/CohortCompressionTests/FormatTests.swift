import CohortCompression
import CohortTensor
import Testing

@Suite("Encoded format")
struct FormatTests {
    /// Builds an update by hand from the documented layout (``UpdateHeader``).
    static func handBuilt(
        layout: UInt8, flags: UInt8 = 0, bits: UInt8, count: UInt64, sent: UInt64, block: UInt32, payload: [UInt8]
    ) -> [UInt8] {
        var bytes: [UInt8] = Array("CUPD".utf8) + [1, layout, flags, bits]
        for v in [count, sent] { bytes += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: block >> (8 * $0)) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * $0)) }
        return bytes + payload
    }

    static func le(_ f: Float) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } }

    @Test("known answer: a hand-built 8-bit quantised update decodes as min + level * (max - min) / 255")
    func quantizedKnownAnswer() throws {
        let bytes = Self.handBuilt(
            layout: 0, bits: 8, count: 3, sent: 3, block: 16, payload: Self.le(-1) + Self.le(1) + [0, 255, 128])
        let step = Float(2.0 / 255.0)
        #expect(try UpdateCodec.decode(bytes, expectedCount: 3) == [-1, 1, -1 + 128 * step])
    }

    @Test("known answer: sparse Float32 values with delta-varint indices")
    func sparseVarintKnownAnswer() throws {
        // Indices 3 and 9: gaps 3 and 9 - 3 - 1 = 5. A third index 200 needs a two-byte varint gap of 190.
        let bytes = Self.handBuilt(
            layout: 1, bits: 32, count: 300, sent: 3, block: 0,
            payload: Self.le(5) + Self.le(-7) + Self.le(0.5) + [3, 5, 0xBE, 0x01])
        var expected = [Float](repeating: 0, count: 300)
        expected[3] = 5
        expected[9] = -7
        expected[200] = 0.5
        #expect(try UpdateCodec.decode(bytes, expectedCount: 300) == expected)
    }

    @Test("known answer: sparse 4-bit values with a bitmap of indices")
    func sparseBitmapKnownAnswer() throws {
        // min 0, max 15: step 1. Levels 1, 15, 7 pack low nibble first: F1 07. Indices 0, 8, 9: bitmap 01 03.
        let bytes = Self.handBuilt(
            layout: 1, flags: 4, bits: 4, count: 10, sent: 3, block: 16,
            payload: Self.le(0) + Self.le(15) + [0xF1, 0x07, 0x01, 0x03])
        #expect(try UpdateCodec.decode(bytes, expectedCount: 10) == [1, 0, 0, 0, 0, 0, 0, 0, 15, 7])
    }

    @Test("known answer: a seeded 4-bit encoding gives the same bytes on every platform")
    func encodingKnownAnswer() throws {
        let x: [Float] = (0..<20).map { Float(($0 * 37) % 23) / 11 - 1 }
        let bytes = try Fixtures.encode(x, "q4(block=16)", seed: 2024).bytes
        let header = try Fixtures.header(bytes)
        #expect(header.valueBits == 4 && header.count == 20 && header.blockSize == 16 && header.payloadBytes == 26)
        #expect(Self.hex(bytes[...]) == Self.expectedQ4Bytes)
    }

    static let expectedQ4Bytes =
        "435550440100000414000000000000001400000000000000100000001a000000000000000000"
        + "80bf2eba683fe8a28bbe0000803fa0e4074b8eb1f5280a6f"

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test(
        "encoding is deterministic for a seeded generator",
        arguments: ["dense", "q8", "q4", "topk:0.05", "topk:0.05+q8", "q8+deflate", "topk:0.3+q4+deflate"])
    func deterministic(spec: String) throws {
        let x = Fixtures.gaussian(5000, seed: 6)
        var a = RandomSource(seed: 77), b = RandomSource(seed: 77)
        let codec = try CodecSpec(parsing: spec)
        var fa: ErrorFeedback? = ErrorFeedback(residual: Fixtures.gaussian(5000, scale: 0.1, seed: 8)), fb = fa
        let ea = try UpdateCodec.encode(x, spec: codec, rng: &a, feedback: &fa)
        let eb = try UpdateCodec.encode(x, spec: codec, rng: &b, feedback: &fb)
        #expect(ea == eb)
        #expect(fa == fb)
        #expect(a == b)
    }

    @Test("the generator drives stochastic rounding only")
    func seedsMatter() throws {
        let x = Fixtures.gaussian(5000, seed: 6)
        #expect(try Fixtures.encode(x, "q8", seed: 1).bytes != Fixtures.encode(x, "q8", seed: 2).bytes)
        #expect(
            try Fixtures.encode(x, "q8(nearest)", seed: 1).bytes == Fixtures.encode(x, "q8(nearest)", seed: 2).bytes)
        var rng = RandomSource(seed: 3)
        let before = rng
        _ = try UpdateCodec.encode(x, spec: .topK(fraction: 0.1), rng: &rng)
        _ = try UpdateCodec.encode(x, spec: .lossless(inner: .dense), rng: &rng)
        #expect(rng == before)
    }

    @Test("dense round trip is exact, with and without deflate", arguments: [0, 1, 15, 16, 17, 1000, 4097])
    func denseExact(count: Int) throws {
        var x = Fixtures.gaussian(count, scale: 1e-3, seed: UInt64(count + 1))
        if count > 2 { x[1] = -0.0; x[2] = .leastNonzeroMagnitude }
        for spec in ["dense", "dense+deflate"] {
            let encoded = try Fixtures.encode(x, spec)
            let y = try UpdateCodec.decode(encoded.bytes, expectedCount: count)
            #expect(y.map(\.bitPattern) == x.map(\.bitPattern))
            #expect(encoded.stats.denseBytes == 4 * count)
            #expect(encoded.stats.encodedBytes == encoded.bytes.count)
        }
    }

    @Test(
        "deflate decodes to the same vector as the inner codec and is never larger",
        arguments: ["q8", "q4", "topk:0.01", "topk:0.01+q8", "topk:0.5+q4"])
    func deflateTransparent(spec: String) throws {
        let x = Fixtures.gaussian(50_000, seed: 12)
        let plain = try Fixtures.encode(x, spec), packed = try Fixtures.encode(x, spec + "+deflate")
        #expect(
            try UpdateCodec.decode(plain.bytes, expectedCount: x.count)
                == UpdateCodec.decode(packed.bytes, expectedCount: x.count))
        #expect(packed.bytes.count <= plain.bytes.count)
        #expect(packed.stats.bytesBeforeDeflate == plain.bytes.count)
        #expect(try Fixtures.header(packed.bytes).isDeflated == packed.stats.isDeflated)
    }

    @Test("sparse indices use delta varints when sparse and a bitmap when dense")
    func indexEncodingChoice() throws {
        let x = Fixtures.gaussian(100_000, seed: 13)
        #expect(try !Fixtures.header(Fixtures.encode(x, "topk:0.01").bytes).hasBitmapIndices)
        #expect(try Fixtures.header(Fixtures.encode(x, "topk:0.3").bytes).hasBitmapIndices)
        for spec in ["topk:0.01", "topk:0.3"] {
            let encoded = try Fixtures.encode(x, spec)
            let y = try UpdateCodec.decode(encoded.bytes, expectedCount: x.count)
            let k = try CodecSpec(parsing: spec).sentCount(of: x.count)
            #expect(y.filter { $0 != 0 }.count == k)
        }
    }
}
