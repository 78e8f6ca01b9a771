import Crypto

extension SecAggClient {
    /// ShareKeys: verifies the neighbours' keys, then Shamir-shares b_u and s_u^SK to the closed neighbourhood and
    /// encrypts each neighbour's shares.
    mutating func shareKeys(_ directory: KeyDirectory) throws(SecAggError) -> [SecAggAction] {
        let config = self.configuration
        var keys = [Int: (encryption: Curve25519.KeyAgreement.PublicKey, masking: Curve25519.KeyAgreement.PublicKey)]()
        for entry in directory.entries {
            guard let v = self.indices[entry.sender], self.graph.areNeighbours(self.index, v), keys[v] == nil else {
                return self.abort(SecAggError(code: .unknownParticipant, message: "key directory lists '\(entry.sender)', not a neighbour (or twice)"))
            }
            let transcript = KeyDerivation.advertisementTranscript(
                session: config.sessionID, sender: entry.sender, encryptionKey: entry.encryptionKey, maskingKey: entry.maskingKey)
            guard self.verifier.isValidSignature(entry.signature, for: transcript, from: entry.sender) else {
                return self.abort(SecAggError(code: .invalidSignature, message: "keys of '\(entry.sender)' are not validly signed"))
            }
            guard let encryption = try? Curve25519.KeyAgreement.PublicKey.parse(entry.encryptionKey),
                let masking = try? Curve25519.KeyAgreement.PublicKey.parse(entry.maskingKey)
            else { return self.abort(SecAggError(code: .invalidKey, message: "keys of '\(entry.sender)' are malformed")) }
            keys[v] = (encryption, masking)
        }
        guard keys.count + 1 >= config.threshold else {
            return self.abort(SecAggError(
                code: .belowThreshold,
                message: "neighbourhood of '\(self.participant)' has \(keys.count + 1) members after AdvertiseKeys; threshold is \(config.threshold)"))
        }
        guard let encryptionKey = self.encryptionKey, let maskingKey = self.maskingKey else {
            throw .unexpected("client has no round keys")
        }
        let holders = (Array(keys.keys) + [self.index]).sorted()
        let points = holders.map { UInt64($0 + 1) }
        let selfMaskSeed = self.randomness.bytes(32)
        let selfMaskShares = ShamirSecretSharing.split(selfMaskSeed, threshold: config.threshold, points: points, using: &self.randomness)
        let keyShares = ShamirSecretSharing.split(
            Array(maskingKey.rawRepresentation), threshold: config.threshold, points: points, using: &self.randomness)
        var out = [EncryptedShare]()
        for (h, v) in holders.enumerated() {
            if v == self.index {
                self.heldShares[v] = (selfMaskShares[h], keyShares[h])
                continue
            }
            let recipient = config.participants[v]
            let secret = try KeyDerivation.sharedSecret(encryptionKey, keys[v]!.encryption)
            let key = KeyDerivation.shareEncryptionKey(secret, session: config.sessionID, sender: self.participant, recipient: recipient)
            self.receiveKeys[v] = KeyDerivation.shareEncryptionKey(secret, session: config.sessionID, sender: recipient, recipient: self.participant)
            let ciphertext = try ShareCipher.seal(
                selfMaskShare: selfMaskShares[h].y, keyShare: keyShares[h].y, key: key, nonce: self.randomness.bytes(12),
                associatedData: KeyDerivation.shareAssociatedData(session: config.sessionID, sender: self.participant, recipient: recipient))
            out.append(EncryptedShare(sender: self.participant, recipient: recipient, ciphertext: ciphertext))
        }
        self.neighbourMaskingKeys = keys.mapValues(\.masking)
        self.selfMaskSeed = selfMaskSeed
        self.phase = .awaitingShares
        return [.sendToServer(.shareKeys(ShareKeys(sender: self.participant, shares: out)))]
    }

    /// MaskedInputCollection: stores the forwarded shares and sends
    /// `y_u = x_u + PRG(b_u) + Σ_{v ∈ peers, u < v} PRG(s_uv) − Σ_{v ∈ peers, v < u} PRG(s_uv)  (mod 2^bits)`.
    mutating func maskInput(_ forwarded: ForwardedShares) throws(SecAggError) -> [SecAggAction] {
        let config = self.configuration
        guard let maskingKey = self.maskingKey, let seed = self.selfMaskSeed else {
            throw .unexpected("client has no round secrets")
        }
        var peers = Set<Int>()
        for share in forwarded.shares {
            guard let u = self.indices[share.sender], let key = self.receiveKeys[u], !peers.contains(u) else {
                return self.abort(SecAggError(
                    code: .unknownParticipant, message: "forwarded share from '\(share.sender)', not a neighbour with keys (or twice)"))
            }
            peers.insert(u)
            do throws(SecAggError) {
                // The associated data names this client as the recipient: a share meant for another fails here.
                let (b, s) = try ShareCipher.open(
                    share.ciphertext, key: key,
                    associatedData: KeyDerivation.shareAssociatedData(session: config.sessionID, sender: share.sender, recipient: self.participant))
                let x = UInt64(self.index + 1)
                self.heldShares[u] = (.init(x: x, y: b), .init(x: x, y: s))
            } catch {
                self.rejectedShares.insert(share.sender)
            }
        }
        guard peers.count + 1 >= config.threshold else {
            return self.abort(SecAggError(
                code: .belowThreshold,
                message: "neighbourhood of '\(self.participant)' has \(peers.count + 1) members after ShareKeys; threshold is \(config.threshold)"))
        }
        var words = self.encodedInput
        self.encodedInput = []
        let selfKey = KeyDerivation.selfMaskKey(seed: seed, session: config.sessionID, owner: self.participant)
        var pairKeys = [(key: SymmetricKey, subtract: Bool)]()
        for v in peers.sorted() {
            let peer = self.neighbourMaskingKeys[v]!
            let (first, second) = self.index < v ? (self.index, v) : (v, self.index)
            let key = try KeyDerivation.pairwiseMaskKey(
                maskingKey, peer, session: config.sessionID, first: config.participants[first], second: config.participants[second])
            pairKeys.append((key, v < self.index))
        }
        words.withUnsafeMutableBufferPointer { w in
            MaskGenerator.accumulate(selfKey, into: w, subtract: false, wordBytes: config.maskWordBytes)
            for p in pairKeys { MaskGenerator.accumulate(p.key, into: w, subtract: p.subtract, wordBytes: config.maskWordBytes) }
            let mask = config.modulusMask
            for i in 0..<w.count { w[i] &= mask }
        }
        self.maskPeers = peers.sorted()
        self.receiveKeys = [:]
        self.phase = .awaitingUnmaskingRequest
        return [.sendToServer(.maskedInput(MaskedInput(sender: self.participant, words: words, bytesPerWord: config.bytesPerWord)))]
    }

    /// Unmasking: reveals b-shares of survivors and s-shares of dropped neighbours, after checking that the request
    /// never asks for both secrets of one neighbour and agrees with the neighbours this client masked with.
    mutating func unmask(_ request: UnmaskingRequest) throws(SecAggError) -> [SecAggAction] {
        let config = self.configuration
        func refuse(_ why: String) -> [SecAggAction] {
            self.abort(SecAggError(code: .refusedRequest, message: "client '\(self.participant)' refuses unmasking request: \(why)"))
        }
        var survivors = Set<Int>()
        var dropped = Set<Int>()
        for id in request.survivors {
            guard let v = self.indices[id] else { return refuse("unknown survivor '\(id)'") }
            guard survivors.insert(v).inserted else { return refuse("survivor '\(id)' listed twice") }
        }
        for id in request.dropped {
            guard let v = self.indices[id] else { return refuse("unknown dropped client '\(id)'") }
            guard !survivors.contains(v) else {
                return refuse("it asks for both the self-mask share and the key share of '\(id)'")
            }
            guard dropped.insert(v).inserted else { return refuse("dropped client '\(id)' listed twice") }
        }
        guard survivors.contains(self.index) else { return refuse("this client is not listed as a survivor") }
        guard survivors.union(dropped) == Set(self.maskPeers + [self.index]) else {
            return refuse("survivors and dropped clients differ from the neighbours it masked with")
        }
        guard survivors.count >= config.threshold else {
            return refuse("only \(survivors.count) survivors in its neighbourhood; threshold is \(config.threshold)")
        }
        let held = self.heldShares
        let selfMaskShares = survivors.sorted().compactMap { v in
            held[v].map { RevealedShare(owner: config.participants[v], share: $0.selfMask) }
        }
        let keyShares = dropped.sorted().compactMap { v in held[v].map { RevealedShare(owner: config.participants[v], share: $0.key) } }
        let response = UnmaskingResponse(sender: self.participant, selfMaskShares: selfMaskShares, keyShares: keyShares)
        self.phase = .finished
        self.heldShares = [:]
        return [.sendToServer(.unmaskingResponse(response))]
    }
}

extension Curve25519.KeyAgreement.PublicKey {
    static func parse(_ raw: [UInt8]) throws(SecAggError) -> Self {
        do { return try Self(rawRepresentation: raw) } catch {
            throw SecAggError(code: .invalidKey, message: "malformed X25519 public key")
        }
    }
}
