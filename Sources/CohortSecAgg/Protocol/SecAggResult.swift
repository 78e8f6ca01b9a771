/// The outcome of a successful round: the sum of the surviving clients' encoded inputs.
public struct SecAggResult: Codable, Sendable, Hashable {
    /// The exact integer sums of the encoded vectors (`Σ round(w·x·2^scaleBits)`, then the weight when appended).
    public var integerSums: [Int64]
    /// `Σ w·x` for each element, decoded (`integerSums / 2^scaleBits`).
    public var sums: [Double]
    /// `Σ w`, when the configuration appends the weight.
    public var totalWeight: Double?
    /// Clients whose inputs are in the sum, in participant order.
    public var survivors: [String]
    /// Clients that shared keys but sent no masked input: their pairwise masks were removed.
    public var dropped: [String]

    /// `Σ w·x / Σ w`, when the weight is appended and positive.
    public var weightedMean: [Double]? {
        guard let w = self.totalWeight, w > 0 else { return nil }
        return self.sums.map { $0 / w }
    }
}
