import CohortSecAgg
import Testing

@Suite("An honest client")
struct SecAggClientTests {
    /// A round of 5 (complete graph, threshold 3) run up to the unmasking requests, which are held back.
    func roundBeforeUnmasking() throws -> ManualRound {
        let config = Fixtures.configuration(n: 5, k: 4, d: 8)
        let (inputs, weights) = Fixtures.inputs(n: 5, d: 8)
        var round = try ManualRound(configuration: config, inputs: inputs, weights: weights, seed: 12)
        try round.step(start: true)
        try round.step()
        try round.step(active: [0, 1, 2, 3])  // site-04 drops before sending its masked input
        #expect(round.server.stage == .unmasking)
        return round
    }

    @Test("refuses a request for both the self-mask share and the key share of one neighbour")
    func refusesBoth() throws {
        var round = try self.roundBeforeUnmasking()
        let request = UnmaskingRequest(survivors: ["site-00", "site-01", "site-02", "site-03"], dropped: ["site-04", "site-03"])
        let actions = try round.clients[0].handle(.unmaskingRequest(request))
        guard case .abort(let error) = actions.first else { Issue.record("expected an abort, got \(actions)"); return }
        #expect(error.code == .refusedRequest)
        #expect(error.message.contains("both"))
        #expect(round.clients[0].hasAborted)
        // It answers nothing afterwards, not even the server's genuine request.
        #expect(throws: SecAggError(code: .aborted, message: "")) { try round.clients[0].handle(round.toClients[0][0]) }
    }

    @Test("refuses requests inconsistent with what it saw", arguments: [
        UnmaskingRequest(survivors: ["site-00", "site-00", "site-01", "site-02", "site-03"], dropped: ["site-04"]),  // listed twice
        UnmaskingRequest(survivors: ["site-01", "site-02", "site-03"], dropped: ["site-00", "site-04"]),  // itself as dropped
        UnmaskingRequest(survivors: ["site-00", "site-01", "site-02", "site-03"], dropped: []),  // site-04 missing
        UnmaskingRequest(survivors: ["site-00", "site-01"], dropped: ["site-02", "site-03", "site-04"]),  // below threshold
        UnmaskingRequest(survivors: ["site-00", "site-01", "site-02", "site-03", "site-09"], dropped: ["site-04"]),  // unknown
    ])
    func refusesInconsistent(_ request: UnmaskingRequest) throws {
        var round = try self.roundBeforeUnmasking()
        let actions = try round.clients[0].handle(.unmaskingRequest(request))
        guard case .abort(let error) = actions.first else { Issue.record("expected an abort, got \(actions)"); return }
        #expect(error.code == .refusedRequest)
    }

    @Test("answers the genuine request once: b-shares of survivors, s-shares of the dropped client")
    func answersOnce() throws {
        var round = try self.roundBeforeUnmasking()
        let request = round.toClients[0][0]
        let actions = try round.clients[0].handle(request)
        guard case .sendToServer(.unmaskingResponse(let response)) = actions.first else { Issue.record("\(actions)"); return }
        #expect(response.selfMaskShares.map(\.owner) == ["site-00", "site-01", "site-02", "site-03"])
        #expect(response.keyShares.map(\.owner) == ["site-04"])
        #expect(round.clients[0].isFinished)
        #expect(throws: SecAggError(code: .unexpectedMessage, message: "")) { try round.clients[0].handle(request) }
    }

    @Test("messages at the wrong stage throw and change nothing")
    func wrongStage() throws {
        let config = Fixtures.configuration(n: 5, k: 4, d: 8)
        let (inputs, weights) = Fixtures.inputs(n: 5, d: 8)
        var round = try ManualRound(configuration: config, inputs: inputs, weights: weights, seed: 12)
        #expect(throws: SecAggError(code: .unexpectedMessage, message: "")) {
            try round.clients[0].handle(.unmaskingRequest(UnmaskingRequest(survivors: [], dropped: [])))
        }
        try round.step(start: true)
        #expect(throws: SecAggError(code: .unexpectedMessage, message: "")) { try round.server.handle(round.toServer[0]) }
        try round.step()
        try round.step()
        try round.step()
        #expect(round.server.result != nil)
    }

    @Test("rejects invalid inputs and weights")
    func invalidInput() {
        let config = Fixtures.configuration(n: 5, k: 4, d: 3)
        let signer = Ed25519Signer()
        #expect(throws: SecAggError(code: .invalidInput, message: "")) {
            try SecAggClient(participant: "site-00", configuration: config, input: [1, 2], signer: signer)
        }
        #expect(throws: SecAggError(code: .invalidInput, message: "")) {
            try SecAggClient(participant: "site-00", configuration: config, input: [1, .nan, 2], signer: signer)
        }
        #expect(throws: SecAggError(code: .invalidInput, message: "")) {
            try SecAggClient(participant: "site-00", configuration: config, input: [1, 2, 3], weight: 101, signer: signer)
        }
        #expect(throws: SecAggError(code: .unknownParticipant, message: "")) {
            try SecAggClient(participant: "site-99", configuration: config, input: [1, 2, 3], signer: signer)
        }
    }
}
