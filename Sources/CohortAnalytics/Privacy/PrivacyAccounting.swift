public import CohortPrivacy
import Foundation

/// The noise a site added to one query's release and what it spent, for the site's privacy ledger.
///
/// Neighbouring datasets differ by adding or removing one record. The query's (ε, δ) is split evenly over its
/// noisy releases (basic sequential composition); groups are disjoint sets of rows, so they compose in parallel and
/// the spend of the query is the spend of one group.
public struct PrivacyAccounting: Sendable, Hashable, Codable {
    public var mechanism: PrivacyRequest.Mechanism
    /// Total ε spent by the query at this site.
    public var epsilon: Double
    /// Total δ spent by the query at this site (0 for Laplace).
    public var delta: Double
    /// One entry per noisy release (the same in every group).
    public var releases: [NoiseRelease]

    public init(mechanism: PrivacyRequest.Mechanism, epsilon: Double, delta: Double, releases: [NoiseRelease]) {
        self.mechanism = mechanism
        self.epsilon = epsilon
        self.delta = delta
        self.releases = releases
    }

    /// The charge the site records in its ``CohortPrivacy/PrivacyLedger`` before the release leaves it.
    ///
    /// - Parameter queryID: The coordinator's identifier of this submission. It must be fresh per submission
    ///   (not the plan digest): the same query asked twice spends twice.
    public func ledgerEntry(queryID: String) -> PrivacyLedger.Entry {
        PrivacyLedger.Entry(jobID: queryID, epsilon: self.epsilon, delta: self.delta, mechanism: self.summary)
    }

    /// The mechanism in words, e.g. "analytics query: Laplace noise on 4 releases at epsilon 0.2 each".
    public var summary: String {
        let each = self.releases.first.map { r in
            " at epsilon \(Self.format(r.epsilon))" + (self.mechanism == .gaussian ? ", delta \(Self.format(r.delta))" : "") + " each"
        } ?? ""
        let name = self.mechanism == .laplace ? "Laplace" : "Gaussian"
        return "analytics query: \(name) noise on \(self.releases.count) release\(self.releases.count == 1 ? "" : "s")\(each)"
    }

    /// Six significant digits.
    static func format(_ x: Double) -> String { String(Double(String(format: "%.6g", x)) ?? x) }
}

/// A site's privacy ledger and its limits, checked before a query with noise is answered.
///
/// The ledger is the same ``CohortPrivacy/PrivacyLedger`` that training jobs charge (basic composition of every
/// job and query the site has answered); `maxEpsilon` and `maxDelta` are the site's `max_epsilon` and `max_delta`.
public struct PrivacyBudget: Sendable, Hashable {
    public var ledger: PrivacyLedger
    public var maxEpsilon: Double
    public var maxDelta: Double?

    public init(ledger: PrivacyLedger, maxEpsilon: Double, maxDelta: Double? = nil) {
        self.ledger = ledger
        self.maxEpsilon = maxEpsilon
        self.maxDelta = maxDelta
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
