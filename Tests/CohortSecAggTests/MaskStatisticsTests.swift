import CohortSecAgg
import CohortTensor
import Testing

@Suite("A masked input looks uniform")
struct MaskStatisticsTests {
    /// The masked input a client sends, for a strongly structured input (a ramp across the clip range).
    func maskedInput(d: Int, bits: Int) throws -> (input: [Float], words: [UInt64]) {
        let config = SecAggConfiguration(
            participants: Fixtures.ids(3), neighbourhoodSize: 2, vectorLength: d, encoding: FixedPointEncoding(clipRange: 1, scaleBits: 16),
            modulusBits: bits, sessionID: "statistics")
        let input = (0..<d).map { Float($0 % 1000) / 500 - 1 }
        var round = try ManualRound(configuration: config, inputs: [input, input, input], weights: [1, 1, 1], seed: 8)
        try round.step(start: true)
        try round.step()
        try round.step()
        let masked = round.toServer.compactMap { if case .maskedInput(let m) = $0, m.sender == "site-00" { m } else { nil } }
        return (input, try #require(masked.first).words)
    }

    @Test("chi-square of the top 8 bits of 100,000 masked words is consistent with uniform", arguments: [32, 64])
    func chiSquare(bits: Int) throws {
        let (_, words) = try self.maskedInput(d: 100_000, bits: bits)
        var counts = [Int](repeating: 0, count: 256)
        for w in words {
            #expect(w >> bits == 0 || bits == 64)
            counts[Int(w >> (bits - 8))] += 1
        }
        let expected = Double(words.count) / 256
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 255 degrees of freedom: mean 255, sd 22.6. 370 is p ≈ 3e-6; a biased mask (e.g. an unmasked or partly
        // masked input) gives values in the hundreds of thousands.
        #expect(chi2 < 370, "chi-square \(chi2)")
        #expect(chi2 > 160, "chi-square \(chi2) is suspiciously small")
    }

    @Test("the masked vector is uncorrelated with the input")
    func correlation() throws {
        let (input, words) = try self.maskedInput(d: 100_000, bits: 32)
        let x = input.map(Double.init)
        let y = words.map { Double($0) }
        let mx = x.reduce(0, +) / Double(x.count)
        let my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        let r = sxy / (sxx * syy).squareRoot()
        // Standard error 1/sqrt(100,000) ≈ 0.003.
        #expect(abs(r) < 0.015, "correlation \(r)")
    }
}
