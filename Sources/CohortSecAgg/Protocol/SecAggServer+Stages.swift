import Crypto

extension SecAggServer {
    // MARK: Receiving

    mutating func receive(_ m: AdvertiseKeys) throws(SecAggError) {
        let u = try self.sender(m.sender)
        guard self.advertised[u] == nil else { throw .unexpected("'\(m.sender)' advertised keys twice") }
        let transcript = KeyDerivation.advertisementTranscript(
            session: self.configuration.sessionID, sender: m.sender, encryptionKey: m.encryptionKey, maskingKey: m.maskingKey)
        guard self.verifier.isValidSignature(m.signature, for: transcript, from: m.sender) else {
            throw SecAggError(code: .invalidSignature, message: "keys of '\(m.sender)' are not validly signed")
        }
        _ = try Curve25519.KeyAgreement.PublicKey.parse(m.encryptionKey)
        self.maskingKeys[u] = try Curve25519.KeyAgreement.PublicKey.parse(m.maskingKey)
        self.advertised[u] = m
        self.advertisedSet.insert(u)
    }

    mutating func receive(_ m: ShareKeys) throws(SecAggError) {
        let u = try self.sender(m.sender)
        guard self.advertisedSet.contains(u), self.sharesBySender[u] == nil else {
            throw .unexpected("'\(m.sender)' did not advertise keys, or shared them twice")
        }
        let expected = Set(self.graph.neighbours[u].filter(self.advertisedSet.contains))
        var seen = Set<Int>()
        for share in m.shares {
            guard share.sender == m.sender, let v = self.indices[share.recipient], expected.contains(v), seen.insert(v).inserted else {
                throw SecAggError(code: .unknownParticipant, message: "'\(m.sender)' addressed a share to '\(share.recipient)'")
            }
        }
        guard seen == expected else {
            throw SecAggError(code: .unexpectedMessage, message: "'\(m.sender)' did not share with every advertised neighbour")
        }
        self.sharesBySender[u] = m.shares
        self.sharedSet.insert(u)
    }

    mutating func receive(_ m: MaskedInput) throws(SecAggError) {
        let u = try self.sender(m.sender)
        guard self.sharedSet.contains(u), !self.maskedSet.contains(u) else {
            throw .unexpected("'\(m.sender)' did not share keys, or sent a masked input twice")
        }
        let outside = ~self.configuration.modulusMask
        guard m.words.count == self.configuration.encodedLength else {
            throw SecAggError(code: .invalidInput, message: "masked input of '\(m.sender)' has the wrong length")
        }
        // One pass adds and checks the range; a word out of range undoes the addition (exact in wrapping arithmetic).
        let inRange = self.maskedSum.withUnsafeMutableBufferPointer { sum in
            m.words.withUnsafeBufferPointer { y in
                var high: UInt64 = 0
                for i in 0..<sum.count {
                    sum[i] &+= y[i]
                    high |= y[i] & outside
                }
                if high != 0 { for i in 0..<sum.count { sum[i] &-= y[i] } }
                return high == 0
            }
        }
        guard inRange else {
            throw SecAggError(code: .invalidInput, message: "masked input of '\(m.sender)' has a word outside the modulus")
        }
        self.maskedSet.insert(u)
    }

    mutating func receive(_ m: UnmaskingResponse) throws(SecAggError) {
        let u = try self.sender(m.sender)
        guard let request = self.requests[u], !self.responders.contains(u) else {
            throw .unexpected("'\(m.sender)' was not asked to unmask, or answered twice")
        }
        let x = UInt64(u + 1)
        func check(_ shares: [RevealedShare], allowed: [String]) throws(SecAggError) -> [(Int, ShamirSecretSharing.Share)] {
            var out = [(Int, ShamirSecretSharing.Share)]()
            var owners = Set<String>()
            for r in shares {
                guard allowed.contains(r.owner), owners.insert(r.owner).inserted, r.share.x == x, r.share.isWellFormed,
                    let owner = self.indices[r.owner]
                else { throw SecAggError(code: .malformedShare, message: "'\(m.sender)' revealed an unrequested or malformed share") }
                out.append((owner, r.share))
            }
            return out
        }
        let selfMask = try check(m.selfMaskShares, allowed: request.survivors)
        let keys = try check(m.keyShares, allowed: request.dropped)
        for (owner, share) in selfMask { self.selfMaskShares[owner, default: []].append(share) }
        for (owner, share) in keys { self.keyShares[owner, default: []].append(share) }
        self.responders.insert(u)
    }

    // MARK: Closing stages

    mutating func closeAdvertiseKeys() -> [SecAggAction] {
        let u1 = self.advertisedSet
        if let failure = self.thresholdFailure(owners: u1.sorted(), alive: u1, after: .advertiseKeys) { return self.abort(failure) }
        self.stage = .shareKeys
        return u1.sorted().map { u in
            let entries = self.graph.neighbours[u].filter(u1.contains).map { self.advertised[$0]! }
            return .send(to: self.id(u), .keyDirectory(KeyDirectory(entries: entries)))
        }
    }

    mutating func closeShareKeys() -> [SecAggAction] {
        let u2 = self.sharedSet
        if let failure = self.thresholdFailure(owners: u2.sorted(), alive: u2, after: .shareKeys) { return self.abort(failure) }
        var inbox = [Int: [EncryptedShare]]()
        for u in u2.sorted() {
            for share in self.sharesBySender[u] ?? [] {
                if let v = self.indices[share.recipient], u2.contains(v) { inbox[v, default: []].append(share) }
            }
        }
        self.sharesBySender = [:]
        self.stage = .maskedInputCollection
        return u2.sorted().map { v in .send(to: self.id(v), .forwardedShares(ForwardedShares(shares: inbox[v] ?? []))) }
    }

    /// The dropped clients (shared keys, no masked input) that have at least one surviving neighbour: their mask
    /// keys must be reconstructed.
    var droppedWithSurvivingNeighbours: [Int] {
        self.sharedSet.subtracting(self.maskedSet).sorted().filter { v in self.graph.neighbours[v].contains(where: self.maskedSet.contains) }
    }

    mutating func closeMaskedInputCollection() -> [SecAggAction] {
        let u3 = self.maskedSet
        guard !u3.isEmpty else {
            return self.abort(SecAggError(code: .belowThreshold, message: "no masked input arrived: nothing to aggregate"))
        }
        let owners = u3.sorted() + self.droppedWithSurvivingNeighbours
        if let failure = self.thresholdFailure(owners: owners, alive: u3, after: .maskedInputCollection) { return self.abort(failure) }
        self.stage = .unmasking
        return u3.sorted().map { u in
            let closed = self.graph.closedNeighbourhood(of: u).filter(self.sharedSet.contains)
            let request = UnmaskingRequest(
                survivors: closed.filter(u3.contains).map(self.id), dropped: closed.filter { !u3.contains($0) }.map(self.id))
            self.requests[u] = request
            return .send(to: self.id(u), .unmaskingRequest(request))
        }
    }

    mutating func closeUnmasking() -> [SecAggAction] {
        let config = self.configuration
        let t = config.threshold
        let survivors = self.maskedSet.sorted()
        let dropped = self.droppedWithSurvivingNeighbours
        // Check every count before reconstructing anything.
        for (owners, shares, what) in [(survivors, self.selfMaskShares, "self-mask"), (dropped, self.keyShares, "mask-key")] {
            for u in owners where (shares[u]?.count ?? 0) < t {
                return self.abort(SecAggError(
                    code: .belowThreshold,
                    message: "neighbourhood of '\(self.id(u))' returned \(shares[u]?.count ?? 0) \(what) shares "
                        + "of \(self.graph.closedNeighbourhood(of: u).count) after unmasking; threshold is \(t): aborting without revealing anything"))
            }
        }
        do throws(SecAggError) {
            var sum = self.maskedSum
            try sum.withUnsafeMutableBufferPointer { (w) throws(SecAggError) in
                for u in survivors {
                    let seed = try ShamirSecretSharing.reconstruct(self.selfMaskShares[u]!, threshold: t)
                    MaskGenerator.accumulate(KeyDerivation.selfMaskKey(seed: seed, session: config.sessionID, owner: self.id(u)), into: w, subtract: true, wordBytes: config.maskWordBytes)
                }
                for v in dropped {
                    let raw = try ShamirSecretSharing.reconstruct(self.keyShares[v]!, threshold: t)
                    guard let secret = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw),
                        secret.publicKey.rawRepresentation == self.maskingKeys[v]!.rawRepresentation
                    else {
                        throw SecAggError(code: .reconstructionFailed, message: "reconstructed mask key of '\(self.id(v))' does not match its public key")
                    }
                    for u in self.graph.neighbours[v] where self.maskedSet.contains(u) {
                        let (first, second) = u < v ? (u, v) : (v, u)
                        let key = try KeyDerivation.pairwiseMaskKey(
                            secret, self.maskingKeys[u]!, session: config.sessionID, first: self.id(first), second: self.id(second))
                        // Survivor u added +PRG(s_uv) if u < v and −PRG(s_uv) otherwise; take back what it added.
                        MaskGenerator.accumulate(key, into: w, subtract: u < v, wordBytes: config.maskWordBytes)
                    }
                }
                let mask = config.modulusMask
                for i in 0..<w.count { w[i] &= mask }
            }
            let integers = FixedPointEncoding.signedIntegers(sum, modulusBits: config.modulusBits)
            let unit = 1 / config.encoding.scale
            let values = integers.prefix(config.vectorLength).map { Double($0) * unit }
            let result = SecAggResult(
                integerSums: integers, sums: Array(values),
                totalWeight: config.appendsWeight ? Double(integers[config.vectorLength]) * unit : nil,
                survivors: survivors.map(self.id), dropped: self.sharedSet.subtracting(self.maskedSet).sorted().map(self.id))
            self.result = result
            self.stage = nil
            self.maskedSum = []
            self.selfMaskShares = [:]
            self.keyShares = [:]
            return [.result(result)]
        } catch {
            return self.abort(error)
        }
    }
}
