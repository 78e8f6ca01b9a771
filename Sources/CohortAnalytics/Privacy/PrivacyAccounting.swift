/// An (ε, δ) privacy cost, e.g. what a query spends at a site or what a site's ledger has left.
public struct PrivacySpend: Sendable, Hashable, Codable, CustomStringConvertible {
    public var epsilon: Double
    public var delta: Double

    public init(epsilon: Double, delta: Double = 0) {
        self.epsilon = epsilon
        self.delta = delta
    }

    public var description: String { "epsilon \(self.epsilon), delta \(self.delta)" }
}

/// The noise a site added to one query's release and what it spent, for the privacy ledger.
///
/// Neighbouring datasets differ by adding or removing one record. The query's (ε, δ) is split evenly over its
/// noisy releases (basic sequential composition); groups are disjoint sets of rows, so they compose in parallel and
/// the spend of the query is the spend of one group.
public struct PrivacyAccounting: Sendable, Hashable, Codable {
    public var mechanism: PrivacyRequest.Mechanism
    /// Total spent by the query at this site.
    public var spent: PrivacySpend
    /// One entry per noisy release (the same in every group).
    public var releases: [NoiseRelease]

    public init(mechanism: PrivacyRequest.Mechanism, spent: PrivacySpend, releases: [NoiseRelease]) {
        self.mechanism = mechanism
        self.spent = spent
        self.releases = releases
    }
}

/// One noisy release: what it is, its sensitivity and the noise scale used.
public struct NoiseRelease: Sendable, Hashable, Codable {
    /// E.g. `count`, `sum of (x - mid)`, `histogram`.
    public var statistic: String
    public var column: String?
    /// `L1` (Laplace) or `L2` (Gaussian).
    public var norm: String
    public var sensitivity: Double
    /// Laplace scale b, or Gaussian standard deviation σ.
    public var scale: Double
    public var epsilon: Double
    public var delta: Double

    public init(statistic: String, column: String?, norm: String, sensitivity: Double, scale: Double, epsilon: Double, delta: Double) {
        self.statistic = statistic
        self.column = column
        self.norm = norm
        self.sensitivity = sensitivity
        self.scale = scale
        self.epsilon = epsilon
        self.delta = delta
    }
}
