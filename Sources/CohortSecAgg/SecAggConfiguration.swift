import CohortTensor

/// The public parameters of one secure-aggregation round, known to the server and every client.
///
/// ## Choosing the parameters
/// - `neighbourhoodSize` (k): each client masks with, and secret-shares to, k neighbours in a random k-regular graph
///   (``NeighbourGraph``). `k = n - 1` is the complete graph: the original SecAgg of Bonawitz et al. (2017). SecAgg+
///   (Bell et al., 2020) uses k = O(log n); ``recommendedNeighbourhoodSize(participants:)`` returns
///   `min(n - 1, 2·⌈1.5·log2 n⌉)` (20 for 100 clients), so that with random graphs a neighbourhood almost never
///   loses a majority to a 30% dropout rate.
/// - `threshold` (t): secrets are shared t-out-of-(k+1) within each *closed* neighbourhood (the client and its k
///   neighbours). Validation requires `2t > k + 1`: two disjoint sets of honest clients can then never both reach
///   t, so even a server that lies about who dropped cannot obtain both the self-mask and the mask key of a client
///   (this is why the optional consistency-check round is not needed). Every neighbourhood must keep t members
///   until unmasking, so `k + 1 - t` is the number of dropouts per neighbourhood the round tolerates.
/// - `modulusBits`: arithmetic is modulo `2^modulusBits` (8...64) in `UInt64` words. Validation requires
///   `n · ⌈maxWeight · max(c, 1) · 2^scaleBits⌉ < 2^(modulusBits - 1)`, so the signed sum of n encoded inputs can
///   never wrap; ``minimumModulusBits`` computes the smallest such value.
public struct SecAggConfiguration: Codable, Sendable, Hashable {
    /// Participant ids (e.g. site names), in a fixed order. A participant's position (from 1) is its Shamir
    /// evaluation point, and the order decides the sign of pairwise masks.
    public var participants: [String]
    /// Neighbours per client (k); `participants.count - 1` for the complete graph.
    public var neighbourhoodSize: Int
    /// Shares needed to reconstruct a secret (t), out of the k + 1 members of a closed neighbourhood.
    public var threshold: Int
    /// Public seed of the neighbour graph.
    public var graphSeed: UInt64
    /// Length of the input vector (without the appended weight).
    public var vectorLength: Int
    /// Fixed-point encoding of inputs.
    public var encoding: FixedPointEncoding
    /// Arithmetic is modulo `2^modulusBits`.
    public var modulusBits: Int
    /// Whether clients input `w·x` and `w`, so that the server recovers `Σ w·x` and `Σ w`.
    public var appendsWeight: Bool
    /// A unique label for this round (e.g. `"job-7/round-3"`); bound into every signature and derived key, so
    /// nothing from one round can be replayed in another.
    public var sessionID: String
    /// Each participant's long-term Ed25519 public key (32 raw bytes), used to verify advertised round keys.
    public var signingKeys: [String: [UInt8]]

    /// Creates a configuration; call ``validate()`` (the state machines do) before use.
    public init(
        participants: [String], neighbourhoodSize: Int? = nil, threshold: Int? = nil, graphSeed: UInt64 = 0,
        vectorLength: Int, encoding: FixedPointEncoding = FixedPointEncoding(), modulusBits: Int? = nil,
        appendsWeight: Bool = false, sessionID: String = "secagg", signingKeys: [String: [UInt8]] = [:]
    ) {
        let n = participants.count
        let k = neighbourhoodSize ?? Self.recommendedNeighbourhoodSize(participants: n)
        self.participants = participants
        self.neighbourhoodSize = k
        self.threshold = threshold ?? Self.recommendedThreshold(neighbourhoodSize: k)
        self.graphSeed = graphSeed
        self.vectorLength = vectorLength
        self.encoding = encoding
        self.appendsWeight = appendsWeight
        self.modulusBits = 64
        self.sessionID = sessionID
        self.signingKeys = signingKeys
        self.modulusBits = modulusBits ?? min(64, max(32, self.minimumModulusBits))
    }

    /// `min(n - 1, 2·⌈1.5·log2 n⌉)`, the default neighbourhood size (even, so a k-regular graph always exists).
    public static func recommendedNeighbourhoodSize(participants n: Int) -> Int {
        guard n > 2 else { return max(1, n - 1) }
        let k = 2 * Int((1.5 * Math.log(Double(n)) / Math.log(2)).rounded(.up))
        return min(n - 1, k)
    }

    /// The smallest majority of a closed neighbourhood: `⌊(k + 1) / 2⌋ + 1`.
    public static func recommendedThreshold(neighbourhoodSize k: Int) -> Int { (k + 1) / 2 + 1 }

    /// Words per masked vector: the input length, plus one when the weight is appended.
    public var encodedLength: Int { self.vectorLength + (self.appendsWeight ? 1 : 0) }

    /// `2^modulusBits - 1`.
    public var modulusMask: UInt64 { self.modulusBits >= 64 ? .max : (UInt64(1) << self.modulusBits) - 1 }

    /// Bytes per masked word on the wire: `⌈modulusBits / 8⌉`.
    public var bytesPerWord: Int { (self.modulusBits + 7) / 8 }

    /// Bytes of keystream per mask word: 4 when `modulusBits <= 32` (only the low bits matter, so half the PRG
    /// output suffices), otherwise 8.
    public var maskWordBytes: Int { self.modulusBits <= 32 ? 4 : 8 }

    /// The smallest `modulusBits` for which the sum of all participants' encoded inputs cannot wrap.
    public var minimumModulusBits: Int {
        let bound = Double(self.participants.count) * self.encoding.maximumMagnitude(appendsWeight: self.appendsWeight)
        var bits = 2
        while bits < 80 && Double(sign: .plus, exponent: bits - 1, significand: 1) <= bound { bits += 1 }
        return bits
    }

    /// Checks every parameter.
    ///
    /// - Throws: ``SecAggError/Code/invalidConfiguration`` naming the first problem.
    public func validate() throws(SecAggError) {
        let n = self.participants.count
        let k = self.neighbourhoodSize
        guard n >= 2 else { throw .invalidConfiguration("secure aggregation needs at least 2 participants, got \(n)") }
        guard Set(self.participants).count == n else { throw .invalidConfiguration("participant ids must be unique") }
        guard (1...(n - 1)).contains(k) else {
            throw .invalidConfiguration("neighbourhood size \(k) must be in 1...\(n - 1) for \(n) participants")
        }
        guard k == n - 1 || k % 2 == 0 || n % 2 == 0 else {
            throw .invalidConfiguration("no \(k)-regular graph on \(n) nodes exists (k and n both odd)")
        }
        guard self.threshold <= k + 1, 2 * self.threshold > k + 1 else {
            throw .invalidConfiguration(
                "threshold \(self.threshold) must be a majority of the closed neighbourhood: in \((k + 1) / 2 + 1)...\(k + 1)")
        }
        guard self.vectorLength >= 0 else { throw .invalidConfiguration("vector length must not be negative") }
        let e = self.encoding
        guard e.clipRange > 0, e.clipRange.isFinite, e.maxWeight > 0, e.maxWeight.isFinite, (0...40).contains(e.scaleBits)
        else { throw .invalidConfiguration("encoding needs a positive clip range and max weight, and 0...40 scale bits") }
        guard e.maximumMagnitude(appendsWeight: self.appendsWeight) < 0x1.0p52 else {
            throw .invalidConfiguration("maxWeight · clipRange · 2^scaleBits must stay below 2^52 for exact rounding")
        }
        guard (8...64).contains(self.modulusBits) else { throw .invalidConfiguration("modulusBits must be in 8...64") }
        guard self.modulusBits >= self.minimumModulusBits else {
            throw .invalidConfiguration(
                "modulusBits \(self.modulusBits) can wrap: \(n) inputs of magnitude up to "
                    + "\(e.maximumMagnitude(appendsWeight: self.appendsWeight)) need at least \(self.minimumModulusBits) bits")
        }
        guard !self.sessionID.isEmpty else { throw .invalidConfiguration("sessionID must not be empty") }
    }
}
