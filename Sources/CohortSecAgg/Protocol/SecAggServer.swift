import Crypto

/// The server's side of one secure-aggregation round, as a pure state machine.
///
/// The server routes keys and encrypted shares, sums masked inputs as they arrive, and in the end reconstructs
/// the secrets it needs to remove the masks. It never sees an unmasked input. It does no I/O and reads no clock:
/// the driver decides when a stage has lasted long enough and calls ``closeStage()``; a stage also closes by
/// itself once every client still in the round has answered.
///
/// ## Usage
/// ```swift
/// var server = try SecAggServer(configuration: config)
/// for message in inbox { actions += try server.handle(message) }   // .send(to:_:) per client
/// actions += server.closeStage()                                    // the caller's timeout
/// // … until an action is .result(sum) or .abort(error)
/// ```
///
/// Dropouts are allowed at every stage as long as each closed neighbourhood (a client and its k neighbours) whose
/// secrets are still needed keeps at least `threshold` members. Otherwise the server returns
/// ``SecAggAction/abort(_:)`` with ``SecAggError/Code/belowThreshold``, naming the neighbourhood and the counts,
/// before reconstructing anything, and ``result`` stays nil.
public struct SecAggServer: Sendable {
    /// The round parameters.
    public let configuration: SecAggConfiguration
    let graph: NeighbourGraph
    let verifier: any SecAggSignatureVerifier
    let indices: [String: Int]

    /// The stage being collected; nil once the round has a result or has aborted.
    public internal(set) var stage: SecAggStage? = .advertiseKeys
    /// The aggregate, once recovered.
    public internal(set) var result: SecAggResult?
    /// Why the round aborted, if it did.
    public internal(set) var abortReason: SecAggError?

    var advertised: [Int: AdvertiseKeys] = [:]
    var maskingKeys: [Int: Curve25519.KeyAgreement.PublicKey] = [:]
    var sharesBySender: [Int: [EncryptedShare]] = [:]
    var maskedSum: [UInt64]
    var maskedFrom: Set<Int> = []
    /// U1 ⊇ U2 ⊇ U3: clients that advertised keys, shared keys, and sent masked inputs.
    var advertisedSet: Set<Int> = []
    var sharedSet: Set<Int> = []
    var maskedSet: Set<Int> = []
    var requests: [Int: UnmaskingRequest] = [:]
    var selfMaskShares: [Int: [ShamirSecretSharing.Share]] = [:]
    var keyShares: [Int: [ShamirSecretSharing.Share]] = [:]
    var responders: Set<Int> = []

    /// Creates the server for one round.
    ///
    /// - Parameter verifier: checks clients' signatures; by default Ed25519 with `configuration.signingKeys`.
    /// - Throws: ``SecAggError/Code/invalidConfiguration``.
    public init(configuration: SecAggConfiguration, verifier: (any SecAggSignatureVerifier)? = nil) throws(SecAggError) {
        try configuration.validate()
        self.configuration = configuration
        self.graph = NeighbourGraph(configuration)
        self.verifier = verifier ?? Ed25519Verifier(publicKeys: configuration.signingKeys)
        self.indices = Dictionary(uniqueKeysWithValues: configuration.participants.enumerated().map { ($1, $0) })
        self.maskedSum = [UInt64](repeating: 0, count: configuration.encodedLength)
    }

    /// Handles a message from a client.
    ///
    /// - Throws: ``SecAggError`` when the message is invalid (unknown or duplicate sender, wrong stage, bad
    ///   signature, wrong shape); the message is then ignored and the round goes on.
    public mutating func handle(_ message: SecAggMessage) throws(SecAggError) -> [SecAggAction] {
        guard let stage = self.stage else { throw SecAggError(code: .aborted, message: "the round is over") }
        switch (message, stage) {
        case (.advertiseKeys(let m), .advertiseKeys):
            try self.receive(m)
            return self.advertisedSet.count == self.configuration.participants.count ? self.closeStage() : []
        case (.shareKeys(let m), .shareKeys):
            try self.receive(m)
            return self.sharedSet.count == self.advertisedSet.count ? self.closeStage() : []
        case (.maskedInput(let m), .maskedInputCollection):
            try self.receive(m)
            return self.maskedSet.count == self.sharedSet.count ? self.closeStage() : []
        case (.unmaskingResponse(let m), .unmasking):
            try self.receive(m)
            return self.responders.count == self.maskedSet.count ? self.closeStage() : []
        default:
            throw .unexpected("the server does not expect a \(message.stage) message during \(stage)")
        }
    }

    /// Ends the current stage (the caller's timeout): clients that have not answered are dropped, and the server
    /// either starts the next stage, returns the result, or aborts.
    public mutating func closeStage() -> [SecAggAction] {
        switch self.stage {
        case .advertiseKeys: return self.closeAdvertiseKeys()
        case .shareKeys: return self.closeShareKeys()
        case .maskedInputCollection: return self.closeMaskedInputCollection()
        case .unmasking: return self.closeUnmasking()
        case nil: return []
        }
    }

    // MARK: Helpers

    func sender(_ id: String) throws(SecAggError) -> Int {
        guard let u = self.indices[id] else { throw SecAggError(code: .unknownParticipant, message: "'\(id)' is not a participant") }
        return u
    }

    func id(_ u: Int) -> String { self.configuration.participants[u] }

    mutating func abort(_ error: SecAggError) -> [SecAggAction] {
        self.stage = nil
        self.abortReason = error
        self.maskedSum = []
        self.selfMaskShares = [:]
        self.keyShares = [:]
        return [.abort(error)]
    }

    /// The first owner whose closed neighbourhood has fewer than `threshold` members in `alive`, as an error.
    func thresholdFailure(owners: some Sequence<Int>, alive: Set<Int>, after stage: SecAggStage) -> SecAggError? {
        let t = self.configuration.threshold
        for u in owners {
            let closed = self.graph.closedNeighbourhood(of: u)
            let left = closed.filter(alive.contains).count
            if left < t {
                return SecAggError(
                    code: .belowThreshold,
                    message: "neighbourhood of '\(self.id(u))' has \(left) of \(closed.count) members left after \(stage); "
                        + "threshold is \(t): aborting without revealing anything")
            }
        }
        return nil
    }
}
