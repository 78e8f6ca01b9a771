import CohortCompression
import CohortTensor

/// Shared fixtures for the codec tests.
enum Fixtures {
    /// `count` Gaussian values with the given standard deviation.
    static func gaussian(_ count: Int, scale: Double = 1, seed: UInt64 = 1) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<count).map { _ in Float(rng.gaussian() * scale) }
    }

    /// Encodes with a fresh generator and no feedback.
    static func encode(_ x: [Float], _ spec: String, seed: UInt64 = 7) throws -> EncodedUpdate {
        var rng = RandomSource(seed: seed)
        return try UpdateCodec.encode(x, spec: CodecSpec(parsing: spec), rng: &rng)
    }

    /// The header of an encoded update.
    static func header(_ bytes: [UInt8]) throws -> UpdateHeader {
        try bytes.withUnsafeBytes { try UpdateHeader(parsing: $0) }
    }

    /// The quantisation step `(max - min) / (2^bits - 1)` of each value's block.
    static func steps(_ x: [Float], bits: Int, blockSize: Int) -> [Float] {
        var steps = [Float](repeating: 0, count: x.count)
        var start = 0
        while start < x.count {
            let block = x[start..<min(x.count, start + blockSize)]
            let step = (block.max()! - block.min()!) / Float((1 << bits) - 1)
            for i in block.indices { steps[i] = step }
            start += blockSize
        }
        return steps
    }

    /// Indices of the `k` largest magnitudes by a full sort (ties to the lower index): the reference for top-k.
    static func topK(_ x: [Float], _ k: Int) -> Set<Int> {
        let order = x.indices.sorted { abs(x[$0]) != abs(x[$1]) ? abs(x[$0]) > abs(x[$1]) : $0 < $1 }
        return Set(order.prefix(k))
    }
}
