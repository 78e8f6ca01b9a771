import CohortSecAgg
import Foundation
import Testing

@Suite("Protocol plumbing: determinism, graph, messages")
struct ProtocolTests {
    func transcript(seed: UInt64?) throws -> (SecAggResult?, [SecAggMessage]) {
        let config = Fixtures.configuration(n: 8, k: 4, d: 24)
        let (inputs, weights) = Fixtures.inputs(n: 8, d: 24)
        var messages = [SecAggMessage]()
        let report = try SecAggSimulation.run(
            configuration: config, inputs: inputs, weights: weights, dropouts: [.maskedInputCollection: ["site-05"]], seed: seed
        ) { message, _ in
            messages.append(message)
            return message
        }
        return (report.result, messages)
    }

    @Test("the same seed reproduces every message; another seed changes keys and ciphertexts but not the sum")
    func determinism() throws {
        let (r1, m1) = try self.transcript(seed: 42)
        let (r2, m2) = try self.transcript(seed: 42)
        let (r3, m3) = try self.transcript(seed: 43)
        let (r4, m4) = try self.transcript(seed: nil)
        #expect(r1 != nil)
        #expect(m1 == m2)
        #expect(r1 == r2)
        #expect(m1 != m3)
        #expect(m1 != m4)
        #expect(r1?.integerSums == r3?.integerSums)
        #expect(r1?.integerSums == r4?.integerSums)
    }

    @Test("the neighbour graph is k-regular, symmetric, seeded and complete for k = n - 1", arguments: [(20, 6), (20, 5), (21, 8), (7, 6)])
    func graph(_ n: Int, _ k: Int) {
        let g = NeighbourGraph(participantCount: n, degree: k, seed: 9)
        for u in 0..<n {
            #expect(g.neighbours[u].count == k)
            #expect(!g.neighbours[u].contains(u))
            for v in g.neighbours[u] { #expect(g.areNeighbours(v, u)) }
        }
        #expect(g == NeighbourGraph(participantCount: n, degree: k, seed: 9))
        if k < n - 1 { #expect(g != NeighbourGraph(participantCount: n, degree: k, seed: 10)) }
    }

    @Test("messages survive a JSON round trip; wire sizes are compact")
    func codable() throws {
        let config = Fixtures.configuration(n: 5, k: 4, d: 1000)
        let (inputs, weights) = Fixtures.inputs(n: 5, d: 1000)
        var round = try ManualRound(configuration: config, inputs: inputs, weights: weights, seed: 3)
        try round.step(start: true)
        try round.step()
        try round.step()
        try round.step()
        let all = round.toServer
        #expect(Set(all.map(\.stage)) == Set(SecAggStage.allCases))
        for m in all {
            let data = try JSONEncoder().encode(m)
            #expect(try JSONDecoder().decode(SecAggMessage.self, from: data) == m)
        }
        for case .maskedInput(let m) in all {
            // 1,001 words of 4 bytes (32-bit modulus), plus the sender and framing.
            #expect(SecAggMessage.maskedInput(m).wireByteCount == 1 + 2 + 7 + 1 + 4 + 1001 * 4)
        }
        let config64 = SecAggConfiguration(participants: Fixtures.ids(3), vectorLength: 4, modulusBits: 64)
        #expect(config64.bytesPerWord == 8)
    }

    @Test("configuration survives a JSON round trip and has sensible defaults")
    func configurationDefaults() throws {
        let config = SecAggConfiguration(participants: Fixtures.ids(100), vectorLength: 10)
        #expect(config.neighbourhoodSize == 20)
        #expect(config.threshold == 11)
        #expect(SecAggConfiguration(participants: Fixtures.ids(10), vectorLength: 1).neighbourhoodSize == 9)
        try config.validate()
        let decoded = try JSONDecoder().decode(SecAggConfiguration.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }
}
