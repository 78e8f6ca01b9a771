import CohortSecAgg
import Testing

@Suite("Below threshold the server aborts and reveals nothing")
struct ThresholdTests {
    @Test("too many dropouts at each stage abort with belowThreshold, naming the neighbourhood", arguments: SecAggStage.allCases)
    func aborts(at stage: SecAggStage) throws {
        // Complete graph of 10, threshold 6: five dropouts leave five.
        let config = Fixtures.configuration(n: 10, k: 9, t: 6)
        let (inputs, weights) = Fixtures.inputs(n: 10, d: 40)
        let dropped = Set(config.participants.prefix(5))
        let report = try SecAggSimulation.run(configuration: config, inputs: inputs, weights: weights, dropouts: [stage: dropped], seed: 2)
        #expect(report.result == nil)
        let reason = try #require(report.abortReason)
        #expect(reason.code == .belowThreshold)
        #expect(reason.message.contains("neighbourhood of 'site-0"))
        #expect(reason.message.contains("threshold is 6"))
    }

    @Test("one sparse neighbourhood losing its majority is enough to abort")
    func sparseNeighbourhood() throws {
        let config = Fixtures.configuration(n: 20, k: 6, t: 4, d: 10)
        let (inputs, weights) = Fixtures.inputs(n: 20, d: 10)
        let graph = NeighbourGraph(config)
        // Drop four of site-00's six neighbours after ShareKeys: its closed neighbourhood keeps 3 < 4.
        let dropped = Set(graph.neighbours[0].prefix(4).map { config.participants[$0] })
        let report = try SecAggSimulation.run(
            configuration: config, inputs: inputs, weights: weights, dropouts: [.maskedInputCollection: dropped], seed: 2)
        #expect(report.result == nil)
        #expect(report.abortReason?.code == .belowThreshold)
        #expect(report.abortReason?.message.contains("3 of 7 members left") == true)
    }

    @Test("the server state after an abort: no result, no stage, later messages rejected")
    func stateAfterAbort() throws {
        let config = Fixtures.configuration(n: 5, k: 4, d: 4)
        let (inputs, weights) = Fixtures.inputs(n: 5, d: 4)
        var round = try ManualRound(configuration: config, inputs: inputs, weights: weights, seed: 1)
        try round.step(active: [0, 1], start: true)  // only 2 of 5 advertise; threshold is 3
        #expect(round.server.result == nil)
        #expect(round.server.stage == nil)
        #expect(round.server.abortReason?.code == .belowThreshold)
        #expect(throws: SecAggError(code: .aborted, message: "")) { try round.server.handle(round.toServer[0]) }
    }

    @Test("invalid configurations are rejected", arguments: [
        (10, 9, 5),  // threshold is not a majority of 10
        (10, 9, 11),  // threshold above the neighbourhood
        (9, 3, 3),  // no 3-regular graph on 9 nodes
        (10, 10, 6),  // neighbourhood larger than n - 1
    ])
    func invalidConfigurations(_ n: Int, _ k: Int, _ t: Int) {
        let config = Fixtures.configuration(n: n, k: k, t: t)
        #expect(throws: SecAggError(code: .invalidConfiguration, message: "")) { try config.validate() }
    }

    @Test("a modulus too small for n weighted inputs is rejected; the default is large enough")
    func modulus() throws {
        var config = Fixtures.configuration(n: 20, k: 6)
        try config.validate()
        #expect(config.modulusBits >= config.minimumModulusBits)
        config.modulusBits = config.minimumModulusBits - 1
        #expect(throws: SecAggError(code: .invalidConfiguration, message: "")) { try config.validate() }
    }
}
