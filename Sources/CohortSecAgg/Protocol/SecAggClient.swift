import Crypto

/// A client's side of one secure-aggregation round, as a pure state machine.
///
/// The client holds its input and secrets and reacts to server messages with actions; it does no I/O, reads no
/// clock and starts no thread, so the in-process simulation and a network driver run the same code. Timeouts are
/// the server's business.
///
/// ## Usage
/// ```swift
/// var client = try SecAggClient(participant: "site-a", configuration: config, input: update, weight: 120,
///                               signer: Ed25519Signer(privateKey: siteKey))
/// var outbox = try client.start()                  // [.sendToServer(.advertiseKeys(…))]
/// outbox = try client.handle(.keyDirectory(…))     // [.sendToServer(.shareKeys(…))]
/// ```
///
/// Each server message moves the client forward once: key directory → shares; forwarded shares → masked input;
/// unmasking request → revealed shares. A message at the wrong stage throws ``SecAggError/Code/unexpectedMessage``
/// and changes nothing. When the client decides to leave the round (a bad signature, too few neighbours, an
/// unmasking request that asks for both secrets of a neighbour or contradicts what it saw), it returns
/// ``SecAggAction/abort(_:)`` and answers nothing afterwards.
///
/// An encrypted share that fails authentication (tampered with, or routed to the wrong client) is treated as
/// missing: the sender is recorded in ``rejectedShares``, the client still masks with it (the sender masks with this
/// client too, so the masks must cancel), and it cannot reveal that sender's shares later. The round succeeds if the
/// other neighbours hold enough shares.
public struct SecAggClient: Sendable {
    /// The round parameters.
    public let configuration: SecAggConfiguration
    /// This client's id.
    public let participant: String
    let index: Int
    let graph: NeighbourGraph
    let signer: any SecAggSigner
    let verifier: any SecAggSignatureVerifier
    var randomness: any RandomNumberGenerator & Sendable
    var encodedInput: [UInt64]

    enum Phase: Sendable { case created, awaitingKeyDirectory, awaitingShares, awaitingUnmaskingRequest, finished, aborted }
    var phase = Phase.created
    var encryptionKey: Curve25519.KeyAgreement.PrivateKey?
    var maskingKey: Curve25519.KeyAgreement.PrivateKey?
    let indices: [String: Int]
    /// Neighbours' verified mask-agreement public keys (s_v^PK), by participant index.
    var neighbourMaskingKeys: [Int: Curve25519.KeyAgreement.PublicKey] = [:]
    /// Shares this client holds, by owner index: (share of b_owner, share of s_owner^SK).
    var heldShares: [Int: (selfMask: ShamirSecretSharing.Share, key: ShamirSecretSharing.Share)] = [:]
    /// Neighbours this client masked with (those whose shares the server forwarded).
    var maskPeers: [Int] = []
    /// Keys for decrypting each neighbour's shares, derived in ShareKeys from the same X25519 secret as the sending
    /// key, so each pair costs one agreement.
    var receiveKeys: [Int: SymmetricKey] = [:]
    /// This round's self-mask seed b_u.
    var selfMaskSeed: [UInt8]?

    /// Senders whose forwarded share failed authentication or was malformed (treated as missing).
    public internal(set) var rejectedShares: Set<String> = []
    /// Why the client left the round, if it did.
    public internal(set) var abortReason: SecAggError?

    /// Creates a client for one round.
    ///
    /// - Parameters:
    ///   - participant: this client's id; must be in `configuration.participants`.
    ///   - input: the update, `configuration.vectorLength` finite values. Add distributed-DP noise before this call;
    ///     values are clipped to `±encoding.clipRange`.
    ///   - weight: in `[0, encoding.maxWeight]`; the client contributes `weight · input` (and `weight` when the
    ///     configuration appends it).
    ///   - signer: the long-term key that signs this round's public keys.
    ///   - verifier: checks neighbours' signatures; by default Ed25519 with `configuration.signingKeys`.
    ///   - randomness: the source of keys, seeds, Shamir coefficients and nonces: the system CSPRNG in production, a
    ///     seeded generator only in tests.
    /// - Throws: ``SecAggError/Code/invalidConfiguration`` or ``SecAggError/Code/invalidInput``.
    public init(
        participant: String, configuration: SecAggConfiguration, input: [Float], weight: Double = 1,
        signer: any SecAggSigner, verifier: (any SecAggSignatureVerifier)? = nil,
        randomness: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) throws(SecAggError) {
        try configuration.validate()
        guard let index = configuration.participants.firstIndex(of: participant) else {
            throw SecAggError(code: .unknownParticipant, message: "'\(participant)' is not a participant")
        }
        guard input.count == configuration.vectorLength else {
            throw SecAggError(code: .invalidInput, message: "input has \(input.count) values, expected \(configuration.vectorLength)")
        }
        guard input.allSatisfy(\.isFinite) else { throw SecAggError(code: .invalidInput, message: "input has a non-finite value") }
        guard weight.isFinite, weight >= 0, weight <= configuration.encoding.maxWeight else {
            throw SecAggError(code: .invalidInput, message: "weight \(weight) is outside [0, \(configuration.encoding.maxWeight)]")
        }
        self.configuration = configuration
        self.participant = participant
        self.index = index
        self.indices = Dictionary(uniqueKeysWithValues: configuration.participants.enumerated().map { ($1, $0) })
        self.graph = NeighbourGraph(configuration)
        self.signer = signer
        self.verifier = verifier ?? Ed25519Verifier(publicKeys: configuration.signingKeys)
        self.randomness = randomness
        self.encodedInput = configuration.encoding.encode(
            input, weight: weight, appendsWeight: configuration.appendsWeight, modulusMask: configuration.modulusMask)
    }

    /// Whether the client has left the round.
    public var hasAborted: Bool { self.phase == .aborted }

    /// Whether the client has answered the unmasking request: its part is done.
    public var isFinished: Bool { self.phase == .finished }

    /// Starts the round: creates this round's two X25519 key pairs and advertises their signed public keys.
    public mutating func start() throws(SecAggError) -> [SecAggAction] {
        guard self.phase == .created else { throw .unexpected("the client has already started") }
        let encryptionKey = Self.newKey(&self.randomness)
        let maskingKey = Self.newKey(&self.randomness)
        let c = Array(encryptionKey.publicKey.rawRepresentation)
        let s = Array(maskingKey.publicKey.rawRepresentation)
        let transcript = KeyDerivation.advertisementTranscript(
            session: self.configuration.sessionID, sender: self.participant, encryptionKey: c, maskingKey: s)
        let signature = try self.signer.signature(for: transcript)
        self.encryptionKey = encryptionKey
        self.maskingKey = maskingKey
        self.phase = .awaitingKeyDirectory
        return [.sendToServer(.advertiseKeys(AdvertiseKeys(sender: self.participant, encryptionKey: c, maskingKey: s, signature: signature)))]
    }

    /// Handles a message from the server.
    ///
    /// - Throws: ``SecAggError/Code/unexpectedMessage`` for a message this client does not expect now (nothing
    ///   changes), ``SecAggError/Code/aborted`` after the client left the round. Failures while handling an
    ///   expected message end the client's participation and are returned as ``SecAggAction/abort(_:)``.
    public mutating func handle(_ message: SecAggMessage) throws(SecAggError) -> [SecAggAction] {
        guard self.phase != .aborted else { throw SecAggError(code: .aborted, message: "the client has left the round") }
        do throws(SecAggError) {
            switch (message, self.phase) {
            case (.keyDirectory(let directory), .awaitingKeyDirectory):
                return try self.shareKeys(directory)
            case (.forwardedShares(let forwarded), .awaitingShares):
                return try self.maskInput(forwarded)
            case (.unmaskingRequest(let request), .awaitingUnmaskingRequest):
                return try self.unmask(request)
            default:
                break
            }
        } catch {
            // A cryptographic failure inside a stage (e.g. a low-order X25519 key): leave the round.
            return self.abort(error)
        }
        throw .unexpected("client '\(self.participant)' does not expect \(message.stage) message now (\(self.phase))")
    }

    /// Leaves the round with `error`.
    mutating func abort(_ error: SecAggError) -> [SecAggAction] {
        self.phase = .aborted
        self.abortReason = error
        self.encodedInput = []
        self.heldShares = [:]
        self.selfMaskSeed = nil
        self.receiveKeys = [:]
        return [.abort(error)]
    }

    static func newKey(_ randomness: inout any RandomNumberGenerator & Sendable) -> Curve25519.KeyAgreement.PrivateKey {
        // Any 32 bytes are a valid X25519 private key (they are clamped).
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomness.bytes(32))
    }
}
