import CohortCompression
import CohortTensor
import Testing

@Suite("Compression ratios")
struct CompressionRatioTests {
    /// Ratios of dense Float32 bytes to encoded bytes (header included) for 1M Gaussian values, and the lower bounds
    /// each must meet. q8 and q4 pay 8 bytes of min/max per 256-value block (3%), so they land just under 4x and 8x.
    static let expectations: [(String, Double)] = [
        ("dense", 0.99), ("q8", 3.85), ("q4", 7.5), ("topk:0.01", 70), ("topk:0.01+q8", 50), ("topk:0.01+q4", 50),
        ("dense+deflate", 1.0), ("q8+deflate", 3.85), ("q4+deflate", 7.5), ("topk:0.01+q8+deflate", 50),
    ]

    @Test(
        "1M Gaussian values: q8 about 4x, q4 about 8x, top-1% with quantised values at least 50x; deflate never worse")
    func ratios() throws {
        let x = Fixtures.gaussian(1_000_000, scale: 0.01, seed: 31)
        var ratios: [String: Double] = [:]
        var lines = ["| codec | bytes | ratio |", "|---|---|---|"]
        for (spec, minimum) in Self.expectations {
            let encoded = try Fixtures.encode(x, spec)
            #expect(encoded.stats.denseBytes == 4_000_000)
            #expect(encoded.stats.encodedBytes == encoded.bytes.count)
            #expect(encoded.stats.ratio >= minimum, "\(spec): \(encoded.stats.ratio)")
            ratios[spec] = encoded.stats.ratio
            lines.append("| \(spec) | \(encoded.stats.encodedBytes) | \((encoded.stats.ratio * 100).rounded() / 100) |")
        }
        print(lines.joined(separator: "\n"))
        for spec in ["dense", "q8", "q4", "topk:0.01+q8"] {
            #expect(ratios[spec + "+deflate"]! >= ratios[spec]!, "\(spec)+deflate is larger")
        }
        #expect(ratios["q8"]! < 4 && ratios["q4"]! < 8)
    }

    @Test("stats add up across updates")
    func statsSum() throws {
        let a = try Fixtures.encode(Fixtures.gaussian(1000), "q8").stats
        let b = try Fixtures.encode(Fixtures.gaussian(500), "topk:0.1").stats
        var total = CompressionStats.zero
        total += a
        total += b
        #expect(total.count == 1500 && total.sentCount == 1050 && total.denseBytes == 6000)
        #expect(total.encodedBytes == a.encodedBytes + b.encodedBytes)
        #expect(total.ratio == 6000 / Double(a.encodedBytes + b.encodedBytes))
        #expect(CompressionStats.zero.ratio == 1)
    }
}
