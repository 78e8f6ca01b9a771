import CohortSecAgg
import CohortTensor
import Testing

@Suite("SecAgg+ recovers the exact sum")
struct SecAggSumTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var n: Int
        var k: Int
        var stage: SecAggStage
        var fraction: Double
        var testDescription: String { "n=\(n) k=\(k) \(Int(fraction * 100))% drop at \(stage)" }
    }

    static let cases: [Case] = {
        var out = [Case]()
        for (n, k) in [(10, 9), (20, 6)] {
            for stage in SecAggStage.allCases {
                for fraction in [0.0, 0.1, 0.3] where !(fraction == 0 && stage != .advertiseKeys) {
                    out.append(Case(n: n, k: k, stage: stage, fraction: fraction))
                }
            }
        }
        return out
    }()

    @Test("sum equals the sum of the survivors' quantised inputs", arguments: Self.cases)
    func exactSum(_ c: Case) throws {
        let config = Fixtures.configuration(n: c.n, k: c.k, d: 40)
        let (inputs, weights) = Fixtures.inputs(n: c.n, d: 40)
        let dropped = SecAggSimulation.tolerableDropouts(configuration: config, fraction: c.fraction, seed: UInt64(c.n * 31 + c.k))
        #expect(dropped.count == Int((c.fraction * Double(c.n)).rounded()))
        let report = try SecAggSimulation.run(
            configuration: config, inputs: inputs, weights: weights, dropouts: [c.stage: dropped], seed: 3)
        let result = try #require(report.result, "aborted: \(String(describing: report.abortReason))")
        // Clients dropping during unmasking already sent their masked input: they are in the sum.
        let included = Set(config.participants.indices.filter { c.stage == .unmasking || !dropped.contains(config.participants[$0]) })
        let expected = Fixtures.expectedIntegers(config, inputs: inputs, weights: weights, included: included)
        #expect(result.integerSums == expected)
        #expect(Set(result.survivors) == Set(included.map { config.participants[$0] }))
        // The Float64 sum of the quantised values, element by element.
        let scale = config.encoding.scale
        for i in 0..<config.vectorLength {
            let float64Sum = included.sorted().reduce(0.0) { $0 + Double(config.encoding.quantize(inputs[$1], weight: weights[$1])[i]) / scale }
            #expect(result.sums[i] == float64Sum)
        }
        #expect(result.totalWeight == included.reduce(0.0) { $0 + weights[$1] })
        if c.stage == .maskedInputCollection { #expect(Set(result.dropped) == dropped) }
    }

    @Test("dropouts at every stage of one round; traffic is counted per stage")
    func dropoutsEverywhere() throws {
        let config = Fixtures.configuration(n: 24, k: 8, d: 30)
        let (inputs, weights) = Fixtures.inputs(n: 24, d: 30, seed: 17)
        let dropped = SecAggSimulation.tolerableDropouts(configuration: config, fraction: 0.25, seed: 5).sorted()
        #expect(dropped.count == 6)
        let dropouts: [SecAggStage: Set<String>] = [
            .advertiseKeys: [dropped[0]], .shareKeys: [dropped[1]], .maskedInputCollection: [dropped[2], dropped[3]],
            .unmasking: [dropped[4], dropped[5]],
        ]
        let report = try SecAggSimulation.run(configuration: config, inputs: inputs, weights: weights, dropouts: dropouts, seed: 6)
        let result = try #require(report.result)
        let gone = Set(dropped.prefix(4))
        let included = Set(config.participants.indices.filter { !gone.contains(config.participants[$0]) })
        #expect(result.integerSums == Fixtures.expectedIntegers(config, inputs: inputs, weights: weights, included: included))
        #expect(Set(result.dropped) == [dropped[2], dropped[3]])
        #expect(Set(report.traffic.keys) == Set(SecAggStage.allCases))
        #expect(report.traffic.values.allSatisfy { $0.clientToServer > 0 })
        // The server's messages belong to the stage they answer; unmasking ends with the result, sent to nobody.
        #expect(report.traffic[.unmasking]?.serverToClients == 0)
        #expect(report.traffic.filter { $0.key != .unmasking }.values.allSatisfy { $0.serverToClients > 0 })
        #expect(report.bytesSent[dropped[0]] == nil)
        #expect(report.serverBytesReceived == report.bytesSent.values.reduce(0, +))
    }

    @Test("the recovered weighted mean matches the plain weighted mean up to quantisation")
    func weightedMean() throws {
        let config = Fixtures.configuration(n: 12, k: 6, d: 200)
        let (inputs, weights) = Fixtures.inputs(n: 12, d: 200, seed: 9)
        let report = try SecAggSimulation.run(configuration: config, inputs: inputs, weights: weights, seed: 1)
        let mean = try #require(report.result?.weightedMean)
        let total = weights.reduce(0, +)
        for i in 0..<200 {
            let plain = zip(inputs, weights).reduce(0.0) { $0 + $1.1 * min(max(Double($1.0[i]), -2), 2) } / total
            #expect(abs(mean[i] - plain) <= 12 * 0.5 / config.encoding.scale)
        }
    }

    @Test("unweighted sums with a 32-bit modulus and the complete graph (original SecAgg)")
    func unweighted() throws {
        let ids = Fixtures.ids(6)
        let config = SecAggConfiguration(
            participants: ids, neighbourhoodSize: 5, vectorLength: 300, encoding: FixedPointEncoding(clipRange: 1, scaleBits: 20),
            modulusBits: 32)
        let (inputs, _) = Fixtures.inputs(n: 6, d: 300)
        let report = try SecAggSimulation.run(configuration: config, inputs: inputs, dropouts: [.unmasking: ["site-02"]], seed: 4)
        let result = try #require(report.result)
        let ones = [Double](repeating: 1, count: 6)
        #expect(result.integerSums == Fixtures.expectedIntegers(config, inputs: inputs, weights: ones, included: Set(0..<6)))
        #expect(result.totalWeight == nil)
    }
}
