import Crypto
public import Foundation

/// One site's side of an ECDH private set intersection (Meadows 1986; Huberman, Franklin and Hogg 1999), as a
/// state machine: feed it messages, send what it returns.
///
/// Every party holds a secret P-256 scalar. A party's set of hashed, normalised identifiers travels a fixed route
/// (owner, the other parties in name order, then the receiver); each party on the route multiplies every point by
/// its scalar. Blinding commutes, so a fully blinded identifier is the same value whoever held it. The receiver
/// intersects the fully blinded sets and releases the count. Each hop sorts the points (cardinality output), so
/// no one can tell which position matched. See `docs/analytics.md` for what each role learns.
///
/// ```swift
/// var party = try PSIParty(name: "hospital-a", identifiers: ids, parameters: params, policy: .init())
/// var outbox = party.start()
/// // send outbox through the coordinator; for each message that arrives: outbox += try party.receive(message)
/// ```
public struct PSIParty: Sendable {
    public let name: String
    public let parameters: PSIParameters
    /// The party's identifiers (first spelling of each normalised value) and their normalised forms.
    let identifiers: [String]
    let normalized: [String]
    let blinding = P256Blinding()
    let channelKey = Curve25519.KeyAgreement.PrivateKey()
    var peerKeys: [String: SymmetricKey] = [:]
    /// Identifier index of each position of this party's sorted blinded set.
    var ownOrder: [Int] = []
    var sentOwnSet = false
    /// Fully blinded sets by owner (the receiver only).
    var complete: [String: Data] = [:]
    /// What this party learned, once the protocol has finished for it.
    public private(set) var result: PSIResult?

    /// Prepares a party.
    ///
    /// - Throws: ``AnalyticsError`` when the parameters are invalid, do not name this party, or ask for members
    ///   while the site's policy allows only the cardinality.
    public init(name: String, identifiers: [String], parameters: PSIParameters, policy: PSIPolicy) throws(AnalyticsError) {
        try parameters.validate()
        guard parameters.parties.contains(name) else {
            throw AnalyticsError(.parameterMismatch, "'\(name)' is not among the parties \(parameters.parties.joined(separator: ", "))")
        }
        if parameters.output == .members && !policy.allowMembers {
            throw AnalyticsError(.parameterMismatch, "this site's policy does not allow revealing which identifiers are shared; run with output cardinality")
        }
        self.name = name
        self.parameters = parameters
        var seen = Set<String>()
        var ids = [String](), norm = [String]()
        for id in identifiers {
            let n = IdentifierNormalizer.normalize(id)
            if !n.isEmpty && seen.insert(n).inserted {
                ids.append(id)
                norm.append(n)
            }
        }
        self.identifiers = ids
        self.normalized = norm
    }

    /// The first messages: channel keys (sealed channel) or this party's blinded set (plain channel).
    public mutating func start() -> [PSIMessage] {
        guard self.parameters.channel == .sealed else { return self.sendOwnSet() }
        let key = self.channelKey.publicKey.rawRepresentation
        return self.parameters.parties.filter { $0 != self.name }.map { self.message(to: $0, .hello(publicKey: key)) }
    }

    /// Handles a message and returns the messages to send next.
    public mutating func receive(_ m: PSIMessage) throws(AnalyticsError) -> [PSIMessage] {
        if let diff = self.parameters.differences(from: m.parameters) {
            throw AnalyticsError(.parameterMismatch, "'\(m.from)' runs the intersection with other parameters (\(diff)); agree on one set of parameters and restart")
        }
        guard m.to == self.name, self.parameters.parties.contains(m.from), m.from != self.name else {
            throw AnalyticsError(.protocolViolation, "a message from '\(m.from)' to '\(m.to)' was delivered to '\(self.name)'")
        }
        switch m.body {
        case .hello(let key):
            guard self.parameters.channel == .sealed, self.peerKeys[m.from] == nil,
                  let peer = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: key),
                  let shared = try? self.channelKey.sharedSecretFromKeyAgreement(with: peer)
            else { throw AnalyticsError(.protocolViolation, "an unexpected or malformed channel key from '\(m.from)'") }
            let pair = [self.name, m.from].sorted().joined(separator: "|")
            self.peerKeys[m.from] = shared.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: Data(self.parameters.session.utf8), sharedInfo: Data("cohort-psi-v1 channel \(pair)".utf8),
                outputByteCount: 32)
            return self.peerKeys.count == self.parameters.parties.count - 1 && !self.sentOwnSet ? self.sendOwnSet() : []
        case .blinded(let owner, let keys, let payload):
            return try self.handleBlinded(from: m.from, owner: owner, keys: keys, payload: payload)
        case .membership(let own, let others):
            guard self.parameters.output == .members, m.from == self.parameters.receiver else {
                throw AnalyticsError(.protocolViolation, "membership results come only from the receiver, and only with output members")
            }
            let mine = try self.open(own, from: m.from, label: "own")
            let theirs = Set(Self.points(try self.open(others, from: m.from, label: "others")))
            var members = [String]()
            for (pos, p) in Self.points(mine).enumerated() where theirs.contains(p) && pos < self.ownOrder.count {
                members.append(self.identifiers[self.ownOrder[pos]])
            }
            self.result = PSIResult(cardinality: members.count, members: members.sorted())
            return []
        case .cardinality(let n):
            guard m.from == self.parameters.receiver else {
                throw AnalyticsError(.protocolViolation, "only the receiver '\(self.parameters.receiver)' releases the cardinality")
            }
            if self.result == nil { self.result = PSIResult(cardinality: n, members: nil) }
            return []
        }
    }

    mutating func sendOwnSet() -> [PSIMessage] {
        self.sentOwnSet = true
        let domain = P256Blinding.domain(session: self.parameters.session)
        let packed = self.blinding.blind(identifiers: self.normalized, domain: domain)
        let order = (0..<self.normalized.count).sorted { Self.less(packed, $0, $1) }
        self.ownOrder = order
        var sorted = Data(capacity: packed.count)
        for i in order { sorted.append(contentsOf: packed[(i * 32)..<((i + 1) * 32)]) }
        let next = self.parameters.route(of: self.name)[1]
        return [self.message(to: next, .blinded(owner: self.name, keys: 1, payload: self.seal(sorted, to: next, label: "\(self.name)/1")))]
    }

    mutating func handleBlinded(from: String, owner: String, keys: Int, payload: Data) throws(AnalyticsError) -> [PSIMessage] {
        let route = self.parameters.route(of: owner)
        let m = self.parameters.parties.count
        guard keys >= 1, keys < route.count, route[keys - 1] == from, route[keys] == self.name else {
            throw AnalyticsError(.protocolViolation, "'\(from)' sent \(owner)'s set with \(keys) keys applied to '\(self.name)', which is not its next hop")
        }
        let points = try self.open(payload, from: from, label: "\(owner)/\(keys)")
        if keys == m {
            // The receiver's own set, back with every key applied.
            self.complete[owner] = points
            return self.finishIfComplete()
        }
        guard let blinded = self.blinding.blind(packed: Array(points)) else {
            throw AnalyticsError(.protocolViolation, "\(owner)'s set from '\(from)' holds a value that is not a P-256 x-coordinate")
        }
        // Cardinality output: sort, so nobody can follow a position from hop to hop.
        let out = self.parameters.output == .cardinality ? Self.sortedPoints(blinded) : Data(blinded)
        if keys + 1 == m && self.name == self.parameters.receiver {
            self.complete[owner] = out
            return self.finishIfComplete()
        }
        let next = route[keys + 1]
        return [self.message(to: next, .blinded(owner: owner, keys: keys + 1, payload: self.seal(out, to: next, label: "\(owner)/\(keys + 1)")))]
    }

    mutating func finishIfComplete() -> [PSIMessage] {
        guard self.complete.count == self.parameters.parties.count else { return [] }
        let sets = self.parameters.parties.map { Set(Self.points(self.complete[$0]!)) }
        let all = sets.dropFirst().reduce(sets[0]) { $0.intersection($1) }
        var out = [PSIMessage]()
        let others = self.parameters.parties.filter { $0 != self.name }
        if self.parameters.output == .members {
            let own = Self.points(self.complete[self.name]!)
            let members = own.enumerated().filter { all.contains($0.element) }.map { self.identifiers[self.ownOrder[$0.offset]] }
            self.result = PSIResult(cardinality: all.count, members: members.sorted())
            for q in others {
                let rest = zip(self.parameters.parties, sets).filter { $0.0 != q }.map(\.1)
                let inter = rest.dropFirst().reduce(rest[0]) { $0.intersection($1) }
                let othersData = Self.sortedPoints(Array(inter.flatMap { $0 }))
                out.append(self.message(to: q, .membership(own: self.seal(self.complete[q]!, to: q, label: "own"),
                                                           others: self.seal(othersData, to: q, label: "others"))))
            }
        } else {
            self.result = PSIResult(cardinality: all.count, members: nil)
        }
        out += others.map { self.message(to: $0, .cardinality(all.count)) }
        out.append(self.message(to: PSIMessage.coordinator, .cardinality(all.count)))
        return out
    }

    func message(to: String, _ body: PSIMessage.Body) -> PSIMessage {
        PSIMessage(from: self.name, to: to, parameters: self.parameters, body: body)
    }

    func aad(from: String, to: String, label: String) -> Data {
        Data("\(self.parameters.session)|\(from)->\(to)|\(label)".utf8)
    }

    func seal(_ data: Data, to peer: String, label: String) -> Data {
        guard self.parameters.channel == .sealed, let key = self.peerKeys[peer] else { return data }
        // AES-GCM with a fresh random nonce cannot fail for in-memory data.
        return try! AES.GCM.seal(data, using: key, authenticating: self.aad(from: self.name, to: peer, label: label)).combined!
    }

    func open(_ data: Data, from peer: String, label: String) throws(AnalyticsError) -> Data {
        guard self.parameters.channel == .sealed else { return data }
        guard let key = self.peerKeys[peer], let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key, authenticating: self.aad(from: peer, to: self.name, label: label))
        else { throw AnalyticsError(.protocolViolation, "a sealed payload from '\(peer)' does not open (wrong key or tampered)") }
        return plain
    }

    static func points(_ data: Data) -> [Data] {
        stride(from: 0, to: data.count - data.count % 32, by: 32).map { data.subdata(in: (data.startIndex + $0)..<(data.startIndex + $0 + 32)) }
    }

    static func sortedPoints(_ packed: [UInt8]) -> Data {
        let n = packed.count / 32
        let order = (0..<n).sorted { Self.less(packed, $0, $1) }
        var out = Data(capacity: packed.count)
        for i in order { out.append(contentsOf: packed[(i * 32)..<((i + 1) * 32)]) }
        return out
    }

    static func sortedPoints(_ data: Data) -> Data { Self.sortedPoints(Array(data)) }

    static func less(_ packed: [UInt8], _ a: Int, _ b: Int) -> Bool {
        for j in 0..<32 where packed[a * 32 + j] != packed[b * 32 + j] { return packed[a * 32 + j] < packed[b * 32 + j] }
        return false
    }
}
