/// The `(ε, δ)` a job spends and how it was computed.
public struct PrivacySpend: Sendable, Hashable, Codable {
    public var epsilon: Double
    public var delta: Double
    /// The RDP order that attains ``epsilon``.
    public var order: Double
    public var noiseMultiplier: Double
    public var samplingRate: Double
    /// Compositions accounted (rounds, or rounds × local steps).
    public var steps: Int
    /// The mechanism in words.
    public var summary: String

    /// The ledger entry for this spend.
    public func ledgerEntry(jobID: String) -> PrivacyLedger.Entry {
        PrivacyLedger.Entry(jobID: jobID, epsilon: self.epsilon, delta: self.delta, mechanism: self.summary)
    }
}
