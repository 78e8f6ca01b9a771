import CohortCompression
import CohortTensor
import Foundation
import Testing

@Suite("CodecSpec")
struct CodecSpecTests {
    @Test(
        "documented spec strings parse to the intended codec and print back canonically",
        arguments: [
            ("dense", CodecSpec.dense, "dense"),
            ("q8", .quantized(bits: 8), "q8"),
            ("q4", .quantized(bits: 4), "q4"),
            ("Q8 ", .quantized(bits: 8), "q8"),
            ("q4(block=64)", .quantized(bits: 4, blockSize: 64), "q4(block=64)"),
            ("q8(nearest, block=128)", .quantized(bits: 8, stochastic: false, blockSize: 128), "q8(block=128,nearest)"),
            ("topk:0.01", .topK(fraction: 0.01), "topk:0.01"),
            ("topk:0.01+q8", .topK(fraction: 0.01, quantization: .init(bits: 8)), "topk:0.01+q8"),
            ("q8+deflate", .lossless(inner: .quantized(bits: 8)), "q8+deflate"),
            ("dense+deflate", .lossless(inner: .dense), "dense+deflate"),
            (
                "topk:0.01+q8+deflate", .lossless(inner: .topK(fraction: 0.01, quantization: .init(bits: 8))),
                "topk:0.01+q8+deflate"
            ),
            ("topk:1e-3+deflate", .lossless(inner: .topK(fraction: 0.001)), "topk:0.001+deflate"),
        ])
    func parses(text: String, expected: CodecSpec, canonical: String) throws {
        let spec = try CodecSpec(parsing: text)
        #expect(spec == expected)
        #expect(spec.description == canonical)
        #expect(try CodecSpec(parsing: spec.description) == spec)
    }

    @Test(
        "malformed spec strings are refused with a message",
        arguments: [
            "", "deflate", "q3", "q16", "topk", "topk:", "topk:0", "topk:1.5", "topk:-0.1", "topk:abc", "topk:nan",
            "q8+topk:0.1", "dense+q8", "q8+q4", "q8+deflate+deflate", "deflate+q8", "q8(block=10)", "q8(block=0)",
            "q8(block=131072)", "q8(fast)", "q8(block=64", "topk:0.1+dense", "topk:0.1+q8+q4", "zstd",
        ])
    func refuses(text: String) {
        let error = #expect(throws: CompressionError.self) { try CodecSpec(parsing: text) }
        #expect(error?.code == .invalidSpec)
        #expect(error?.message.isEmpty == false)
        #expect(CodecSpec(text) == nil)
    }

    @Test("Codable uses the spec string")
    func codable() throws {
        let spec = CodecSpec.lossless(inner: .topK(fraction: 0.05, quantization: .init(bits: 4, blockSize: 32)))
        let json = try JSONEncoder().encode([spec])
        #expect(String(decoding: json, as: UTF8.self) == #"["topk:0.05+q4(block=32)+deflate"]"#)
        #expect(try JSONDecoder().decode([CodecSpec].self, from: json) == [spec])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([CodecSpec].self, from: Data(#"["q5"]"#.utf8)) }
    }

    @Test("top-k sends max(1, round(fraction * count)) entries")
    func sentCount() throws {
        let spec = CodecSpec.topK(fraction: 0.01)
        #expect(spec.sentCount(of: 1_000_000) == 10_000)
        #expect(spec.sentCount(of: 10) == 1)
        #expect(spec.sentCount(of: 150) == 2)
        #expect(spec.sentCount(of: 0) == 0)
        #expect(CodecSpec.topK(fraction: 1).sentCount(of: 7) == 7)
        #expect(CodecSpec.quantized(bits: 8).sentCount(of: 7) == 7)
    }

    @Test("programmatic specs are validated when used")
    func validation() {
        var rng = RandomSource(seed: 1)
        for spec in [CodecSpec.quantized(bits: 5), .quantized(bits: 8, blockSize: 24), .topK(fraction: 2)] {
            let error = #expect(throws: CompressionError.self) {
                try UpdateCodec.encode([1, 2], spec: spec, rng: &rng)
            }
            #expect(error?.code == .invalidSpec)
        }
    }
}
