import CohortSecAgg
import Testing

@Suite("Tampered or misrouted encrypted shares")
struct TamperingTests {
    let config = Fixtures.configuration(n: 6, k: 5, d: 16)

    func run(_ alter: (inout [EncryptedShare], String) -> Void) throws -> SecAggSimulation.Report {
        let (inputs, weights) = Fixtures.inputs(n: 6, d: 16)
        return try SecAggSimulation.run(configuration: self.config, inputs: inputs, weights: weights, seed: 21) { message, recipient in
            guard case .forwardedShares(var f) = message else { return message }
            alter(&f.shares, recipient)
            return .forwardedShares(f)
        }
    }

    func expectExactSum(_ report: SecAggSimulation.Report) throws {
        let (inputs, weights) = Fixtures.inputs(n: 6, d: 16)
        let result = try #require(report.result)
        #expect(result.integerSums == Fixtures.expectedIntegers(self.config, inputs: inputs, weights: weights, included: Set(0..<6)))
    }

    @Test("a flipped ciphertext bit fails authentication; the share is treated as missing and the sum is still exact")
    func tampered() throws {
        let report = try self.run { shares, recipient in
            guard recipient == "site-01", let i = shares.firstIndex(where: { $0.sender == "site-03" }) else { return }
            shares[i].ciphertext[20] ^= 0x01
        }
        #expect(report.rejectedShares == ["site-01": ["site-03"]])
        try self.expectExactSum(report)
    }

    @Test("a share routed to the wrong recipient fails authentication (the recipient id is associated data)")
    func misrouted() throws {
        var captured: EncryptedShare?
        let report = try self.run { shares, recipient in
            // Forwarded in participant order: capture site-04's share for site-00, hand it to site-01 instead.
            if recipient == "site-00" { captured = shares.first { $0.sender == "site-04" } }
            if recipient == "site-01", let c = captured, let i = shares.firstIndex(where: { $0.sender == "site-04" }) {
                shares[i].ciphertext = c.ciphertext
            }
        }
        #expect(captured != nil)
        #expect(report.rejectedShares == ["site-01": ["site-04"]])
        try self.expectExactSum(report)
    }

    @Test("a share attributed to another sender fails authentication")
    func misattributed() throws {
        let report = try self.run { shares, recipient in
            guard recipient == "site-02" else { return }
            let a = shares.firstIndex { $0.sender == "site-00" }!, b = shares.firstIndex { $0.sender == "site-05" }!
            (shares[a].ciphertext, shares[b].ciphertext) = (shares[b].ciphertext, shares[a].ciphertext)
        }
        #expect(report.rejectedShares == ["site-02": ["site-00", "site-05"]])
        try self.expectExactSum(report)
    }

    @Test("a forwarded share from a non-neighbour makes the client leave the round")
    func unknownSender() throws {
        let config = Fixtures.configuration(n: 12, k: 4, t: 3, d: 4)
        let graph = NeighbourGraph(config)
        let stranger = config.participants[(0..<12).first { $0 != 0 && !graph.areNeighbours(0, $0) }!]
        let (inputs, weights) = Fixtures.inputs(n: 12, d: 4)
        let report = try SecAggSimulation.run(configuration: config, inputs: inputs, weights: weights, seed: 2) { message, recipient in
            guard recipient == "site-00", case .forwardedShares(var f) = message else { return message }
            f.shares[0].sender = stranger
            return .forwardedShares(f)
        }
        #expect(report.clientAborts["site-00"]?.code == .unknownParticipant)
    }
}
