import CohortCompression
import CohortTensor
import Testing

@Suite("Stochastic quantisation")
struct QuantizationTests {
    @Test(
        "every decoded value is within one quantisation step of the input",
        arguments: [("q8", 8, 256), ("q4", 4, 256), ("q8(block=16)", 8, 16), ("q4(block=48)", 4, 48)],
        [1, 15, 16, 17, 255, 256, 257, 1000, 4099])
    func errorBound(codec: (spec: String, bits: Int, block: Int), count: Int) throws {
        let (spec, bits, block) = codec
        let x = Fixtures.gaussian(count, scale: 0.3, seed: UInt64(count))
        let encoded = try Fixtures.encode(x, spec)
        let y = try UpdateCodec.decode(encoded.bytes, expectedCount: count)
        let steps = Fixtures.steps(x, bits: bits, blockSize: block)
        for i in 0..<count {
            // One step, plus Float32 rounding of the step and of min + q * step.
            #expect(abs(y[i] - x[i]) <= steps[i] * (1 + 1e-5) + 1e-7, "element \(i): \(x[i]) decoded as \(y[i])")
        }
    }

    @Test("nearest rounding is within half a step", arguments: ["q8(nearest)", "q4(nearest)"])
    func nearestBound(spec: String) throws {
        let x = Fixtures.gaussian(3001, seed: 3)
        let y = try UpdateCodec.decode(Fixtures.encode(x, spec).bytes, expectedCount: x.count)
        let steps = Fixtures.steps(x, bits: spec.hasPrefix("q8") ? 8 : 4, blockSize: 256)
        for i in x.indices { #expect(abs(y[i] - x[i]) <= steps[i] * 0.5001 + 1e-7) }
    }

    /// The mean of N independent encodings has standard deviation at most `step / (2 sqrt(N))` per element (a
    /// stochastically rounded value is a two-point variable spanning one step). Every element must be within 5 of
    /// those deviations, and the mean signed error over all elements within 5 deviations of the pooled mean.
    @Test("the mean of many independent encodings converges to the input (unbiased)", arguments: [8, 4])
    func unbiased(bits: Int) throws {
        let n = 512, trials = 2000
        let x = Fixtures.gaussian(n, seed: 11)
        var sum = [Double](repeating: 0, count: n)
        let root = RandomSource(seed: 99)
        for t in 0..<trials {
            var rng = root.derived("trial", String(t))
            let bytes = try UpdateCodec.encode(x, spec: .quantized(bits: bits), rng: &rng).bytes
            for (i, v) in try UpdateCodec.decode(bytes, expectedCount: n).enumerated() { sum[i] += Double(v) }
        }
        let steps = Fixtures.steps(x, bits: bits, blockSize: 256)
        var pooled = 0.0
        for i in 0..<n {
            let sd = Double(steps[i]) / (2 * Double(trials).squareRoot())
            let bias = sum[i] / Double(trials) - Double(x[i])
            #expect(abs(bias) <= 5 * sd + 1e-7, "element \(i): bias \(bias), 5 sd = \(5 * sd)")
            pooled += bias / Double(steps[i])
        }
        #expect(abs(pooled / Double(n)) <= 5 / (2 * Double(trials * n).squareRoot()))
    }

    @Test("the unbiasedness bound has power: nearest rounding fails it")
    func nearestIsBiased() throws {
        let n = 512, trials = 2000
        let x = Fixtures.gaussian(n, seed: 11)
        // Nearest rounding is deterministic, so the mean of any number of encodings is one encoding.
        let y = try UpdateCodec.decode(Fixtures.encode(x, "q8(nearest)").bytes, expectedCount: n)
        let steps = Fixtures.steps(x, bits: 8, blockSize: 256)
        let outside = (0..<n).filter { i in
            Double(abs(y[i] - x[i])) > 5 * Double(steps[i]) / (2 * Double(trials).squareRoot()) + 1e-7
        }
        #expect(outside.count > n / 2)
    }

    @Test("constant blocks decode exactly; extreme magnitudes stay finite and within a step")
    func constantBlocks() throws {
        var x = [Float](repeating: 0.25, count: 300)
        x[299] = -3e37
        x[256] = 3e37
        let y = try UpdateCodec.decode(Fixtures.encode(x, "q4").bytes, expectedCount: x.count)
        #expect(Array(y[0..<256]) == Array(x[0..<256]))
        // The block minimum is always exact (level 0); other values are within one step of 6e37 / 15.
        #expect(y[299] == -3e37)
        for i in 256..<299 { #expect(abs(Double(y[i]) - Double(x[i])) <= 6e37 / 15 * 1.00001) }
        #expect(y.allSatisfy { $0.isFinite })
    }

    @Test("values the quantiser cannot represent are refused before anything changes")
    func outOfRange() throws {
        var rng = RandomSource(seed: 5)
        let before = rng
        for bad: Float in [.nan, .infinity, -.infinity, 1e38] {
            var x = Fixtures.gaussian(40)
            x[33] = bad
            let error = #expect(throws: CompressionError.self) {
                try UpdateCodec.encode(x, spec: .quantized(bits: 8), rng: &rng)
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("element 33") == true)
        }
        #expect(rng == before)
        // Float32 values only need to be finite.
        var x = Fixtures.gaussian(40)
        x[3] = 1e38
        #expect(try UpdateCodec.decode(Fixtures.encode(x, "dense").bytes, expectedCount: 40) == x)
    }
}
