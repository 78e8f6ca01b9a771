import CohortCompression
import CohortTensor
import Testing

@Suite("Top-k sparsification with error feedback")
struct TopKTests {
    @Test(
        "exactly k entries are sent: the k largest of update + residual, and the residual keeps the rest bit for bit",
        arguments: [(10_000, 0.01), (10_000, 0.3), (1003, 0.05), (17, 0.5), (1, 1.0)])
    func exactSelection(count: Int, fraction: Double) throws {
        let update = Fixtures.gaussian(count, seed: UInt64(count))
        let old = Fixtures.gaussian(count, scale: 0.5, seed: 42)
        var feedback: ErrorFeedback? = ErrorFeedback(residual: old)
        var rng = RandomSource(seed: 1)
        let spec = CodecSpec.topK(fraction: fraction)
        let encoded = try UpdateCodec.encode(update, spec: spec, rng: &rng, feedback: &feedback)
        let decoded = try UpdateCodec.decode(encoded.bytes, expectedCount: count)
        let target = zip(update, old).map { $0 + $1 }
        let k = spec.sentCount(of: count)
        let sent = Set(decoded.indices.filter { decoded[$0] != 0 })
        #expect(encoded.stats.sentCount == k)
        #expect(sent.count == k)
        #expect(sent == Fixtures.topK(target, k))
        let residual = try #require(feedback).residual
        for i in 0..<count {
            #expect(decoded[i] + residual[i] == target[i], "element \(i)")
            #expect(sent.contains(i) ? decoded[i] == target[i] && residual[i] == 0 : residual[i] == target[i])
        }
    }

    @Test("ties in magnitude go to the lowest indices")
    func ties() throws {
        // Magnitudes 1, 2, 3 with random signs: many exact ties at the threshold.
        var rng = RandomSource(seed: 3)
        let x = (0..<5000).map { _ in Float(1 + rng.uniformInt(below: 3)) * (rng.bernoulli(0.5) ? 1 : -1) }
        for fraction in [0.1, 0.25, 0.5, 0.9] {
            let k = CodecSpec.topK(fraction: fraction).sentCount(of: x.count)
            let y = try UpdateCodec.decode(Fixtures.encode(x, "topk:\(fraction)").bytes, expectedCount: x.count)
            #expect(Set(y.indices.filter { y[$0] != 0 }) == Fixtures.topK(x, k))
        }
        // All equal, including zeros: the first k.
        let zeros = [Float](repeating: 0, count: 100)
        var feedback: ErrorFeedback?
        let encoded = try UpdateCodec.encode(zeros, spec: .topK(fraction: 0.1), rng: &rng, feedback: &feedback)
        #expect(encoded.stats.sentCount == 10)
        #expect(try UpdateCodec.decode(encoded.bytes, expectedCount: 100) == zeros)
    }

    @Test("quantised top-k values: k entries, each within a step, and decoded + residual = update + old residual")
    func quantizedValues() throws {
        let count = 20_000
        let update = Fixtures.gaussian(count, seed: 8)
        var feedback: ErrorFeedback? = ErrorFeedback(residual: Fixtures.gaussian(count, scale: 0.2, seed: 9))
        let target = zip(update, feedback!.residual).map { $0 + $1 }
        var rng = RandomSource(seed: 2)
        let encoded = try UpdateCodec.encode(
            update, spec: CodecSpec(parsing: "topk:0.02+q4"), rng: &rng, feedback: &feedback)
        let decoded = try UpdateCodec.decode(encoded.bytes, expectedCount: count)
        let chosen = Fixtures.topK(target, 400)
        let residual = feedback!.residual
        let values = chosen.sorted().map { target[$0] }
        let steps = Fixtures.steps(values, bits: 4, blockSize: 256)
        for (j, i) in chosen.sorted().enumerated() {
            #expect(abs(decoded[i] - target[i]) <= steps[j] * 1.00001)
            // residual = target - decoded is rounded once; adding it back is exact to within one rounding.
            #expect(abs((decoded[i] + residual[i]) - target[i]) <= target[i].ulp)
        }
        for i in 0..<count where !chosen.contains(i) { #expect(decoded[i] == 0 && residual[i] == target[i]) }
    }

    /// Updates with a common drift and noise: without feedback most of the signal is never sent; with feedback the
    /// running sum of decoded updates equals the running sum of true updates minus the residual, which stays bounded
    /// (it plateaus instead of growing with the rounds).
    @Test(
        "across rounds the sum of decoded updates tracks the sum of true updates",
        arguments: ["topk:0.01", "topk:0.01+q8"])
    func errorFeedbackTracks(spec text: String) throws {
        let d = 10_000, rounds = 1000
        let spec = try CodecSpec(parsing: text)
        let drift = Fixtures.gaussian(d, scale: 0.1, seed: 100)
        var trueSum = [Double](repeating: 0, count: d), sentSum = trueSum, droppedSum = trueSum
        var feedback: ErrorFeedback?
        var norms: [Double] = []
        let root = RandomSource(seed: 5)
        for t in 0..<rounds {
            var noise = root.derived("update", String(t))
            let update = drift.map { $0 + Float(noise.gaussian()) }
            var rng = root.derived("compress", String(t))
            let withFeedback = try UpdateCodec.decode(
                UpdateCodec.encode(update, spec: spec, rng: &rng, feedback: &feedback).bytes, expectedCount: d)
            let without = try UpdateCodec.decode(
                UpdateCodec.encode(update, spec: spec, rng: &rng).bytes, expectedCount: d)
            for i in 0..<d {
                trueSum[i] += Double(update[i])
                sentSum[i] += Double(withFeedback[i])
                droppedSum[i] += Double(without[i])
            }
            norms.append(try #require(feedback).norm)
        }
        func distance(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        }
        let total = trueSum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let residual = feedback!.residual.map(Double.init)
        // The identity holds to Float32 accumulation error.
        let gap = zip(trueSum, sentSum).map { $0 - $1 }
        #expect(distance(gap, residual) <= 1e-5 * total)
        // The residual plateaus: the last rounds are no larger than the middle ones, and it is small beside the sum.
        #expect(norms[rounds - 1] <= 1.3 * norms[rounds / 2])
        #expect(distance(trueSum, sentSum) <= 0.1 * total)
        #expect(distance(trueSum, droppedSum) >= 0.5 * total)
    }

    @Test("feedback of another length is refused and left unchanged")
    func feedbackLength() throws {
        var feedback: ErrorFeedback? = ErrorFeedback(count: 5)
        var rng = RandomSource(seed: 1)
        let error = #expect(throws: CompressionError.self) {
            try UpdateCodec.encode([1, 2, 3], spec: .topK(fraction: 0.5), rng: &rng, feedback: &feedback)
        }
        #expect(error?.code == .invalidInput)
        #expect(feedback == ErrorFeedback(count: 5))
    }

    @Test("feedback serialises compactly and reads back exactly")
    func serialization() throws {
        let feedback = ErrorFeedback(residual: Fixtures.gaussian(1000, seed: 4))
        let bytes = feedback.serialized()
        #expect(bytes.count < 4036)
        #expect(try ErrorFeedback(serialized: bytes, count: 1000) == feedback)
        #expect(throws: CompressionError.self) { try ErrorFeedback(serialized: bytes, count: 999) }
    }
}
