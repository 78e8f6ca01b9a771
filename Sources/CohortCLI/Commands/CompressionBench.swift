import ArgumentParser
import CohortCompression
import CohortTensor
import Foundation

/// `cohort bench compression`: encode and decode throughput of each update codec on Gaussian values, against a memory
/// copy of the same Float32 bytes, with the compression ratio each reaches.
struct CompressionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compression",
        abstract:
            "Update codec encode/decode MB/s (of Float32 input) and ratios, against a memory copy of the same bytes.")

    @Option(help: "Values per update.") var params: Int = 1_000_000
    @Option(help: "Codec specs, comma-separated (see docs/compression.md).")
    var codecs: String =
        "dense,q8,q4,topk:0.01,topk:0.01+q8,topk:0.01+q4,dense+deflate,q8+deflate,q4+deflate,topk:0.01+q8+deflate"
    @Option(help: "Timed repetitions (best is kept).") var repeats: Int = 5

    func run() async throws {
        let specs = try self.codecs.split(separator: ",").map { try CodecSpec(parsing: String($0)) }
        print(try Self.measure(params: self.params, specs: specs, repeats: self.repeats))
    }

    static func measure(params: Int, specs: [CodecSpec], repeats: Int) throws -> String {
        var rng = RandomSource(seed: 9)
        let update = (0..<params).map { _ in Float(rng.gaussian() * 0.01) }
        let megabytes = Double(4 * params) / 1e6
        var sink = [Float](repeating: 0, count: params)
        let copy = Stopwatch.best(repeats: repeats) {
            update.withUnsafeBytes { src in sink.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
        }
        func rate(_ t: Double) -> String { String(format: "%.0f", megabytes / t) }
        var lines = [
            "| codec | ratio | encoded bytes | encode MB/s | decode MB/s | encode / memcpy | decode / memcpy |",
            "|---|---|---|---|---|---|---|",
            "| memory copy (baseline) | 1.00 | \(4 * params) | \(rate(copy)) | \(rate(copy)) | 1.00 | 1.00 |",
        ]
        for spec in specs {
            // Sparse codecs run with error feedback, as a site would; every repetition starts from the same residual.
            let start: ErrorFeedback? = spec.isSparse ? ErrorFeedback(count: params) : nil
            var encoded = EncodedUpdate(bytes: [], stats: .zero)
            let encode = try Stopwatch.best(repeats: repeats) {
                var codecRng = RandomSource(seed: 10)
                var feedback = start
                encoded = try UpdateCodec.encode(update, spec: spec, rng: &codecRng, feedback: &feedback)
            }
            var decoded: [Float] = []
            let decode = try Stopwatch.best(repeats: repeats) {
                decoded = try UpdateCodec.decode(encoded.bytes, expectedCount: params)
            }
            precondition(decoded.count == params)
            lines.append(
                "| \(spec) | \(String(format: "%.2f", encoded.stats.ratio)) | \(encoded.stats.encodedBytes) | "
                    + "\(rate(encode)) | \(rate(decode)) | \(String(format: "%.3f", copy / encode)) | "
                    + "\(String(format: "%.3f", copy / decode)) |")
        }
        lines.append("(MB/s of Float32 input; \(params) Gaussian values; best of \(repeats) after a warm-up)")
        return lines.joined(separator: "\n")
    }
}
