/// The privacy budget a site has spent, job by job.
///
/// Totals use basic (sequential) composition: the jobs together are `(Σ εᵢ, Σ δᵢ)`-DP (Dwork, Kenthapadi,
/// McSherry, Mironov and Naor, "Our Data, Ourselves", 2006; Dwork and Roth, "The Algorithmic Foundations of
/// Differential Privacy", Theorem 3.16). This holds for any mechanisms, adaptively chosen, and is conservative:
/// jobs that share a mechanism could be composed more tightly through their RDP curves, but a site's jobs come from
/// different parties with different accountants, and the sum is the bound a person can check by hand.
///
/// A pure value: callers persist it (it is `Codable`) and record an entry before the job's results leave the site.
public struct PrivacyLedger: Sendable, Hashable, Codable {
    /// One job's spend.
    public struct Entry: Sendable, Hashable, Codable {
        /// The job's identifier.
        public var jobID: String
        /// The job's `ε` at this site, finite and `≥ 0`.
        public var epsilon: Double
        /// The job's `δ` at this site, in `[0, 1]`.
        public var delta: Double
        /// How the job is private, for people (e.g. "central DP, Gaussian z = 1.1, q = 0.1, 50 rounds").
        public var mechanism: String

        public init(jobID: String, epsilon: Double, delta: Double, mechanism: String) {
            self.jobID = jobID
            self.epsilon = epsilon
            self.delta = delta
            self.mechanism = mechanism
        }

        /// Checks that `ε` is finite and non-negative and `δ ∈ [0, 1]`.
        public func validate() throws(PrivacyError) {
            guard self.epsilon.isFinite, self.epsilon >= 0 else {
                throw PrivacyError(.invalidArgument, "job '\(self.jobID)' has epsilon \(self.epsilon)",
                                   hint: "a job without a finite epsilon is not differentially private; record none")
            }
            guard self.delta.isFinite, self.delta >= 0, self.delta <= 1 else {
                throw PrivacyError(.invalidArgument, "job '\(self.jobID)' has delta \(self.delta), outside [0, 1]",
                                   hint: "delta is a probability, typically 1e-5 or smaller")
            }
        }
    }

    /// The recorded spends, oldest first.
    public private(set) var entries: [Entry]

    /// An empty ledger.
    public init() {
        self.entries = []
    }

    /// A ledger with `entries` (e.g. loaded by the caller), each validated.
    public init(entries: [Entry]) throws(PrivacyError) {
        for entry in entries { try entry.validate() }
        self.entries = entries
    }

    /// `Σ εᵢ` over all entries.
    public var totalEpsilon: Double { self.entries.reduce(0) { $0 + $1.epsilon } }

    /// `Σ δᵢ` over all entries, at most 1.
    public var totalDelta: Double { min(1, self.entries.reduce(0) { $0 + $1.delta }) }

    /// Records a spend unconditionally (call ``check(adding:maxEpsilon:maxDelta:)`` first to enforce a limit).
    ///
    /// - Throws: ``PrivacyError`` `.invalidArgument` for a non-finite or negative `ε`, or `δ ∉ [0, 1]`.
    public mutating func record(_ entry: Entry) throws(PrivacyError) {
        try entry.validate()
        self.entries.append(entry)
    }

    /// Why `entry` would take the total past the site's limits, or nil if it fits.
    ///
    /// A job fits when `total ε + entry.ε ≤ maxEpsilon` (and, with `maxDelta`, the same for `δ`). An entry with
    /// an invalid `ε` or `δ` (including an infinite `ε`: no DP) is always refused.
    public func check(adding entry: Entry, maxEpsilon: Double, maxDelta: Double? = nil) -> PrivacyRefusal? {
        let spent = self.totalEpsilon
        let spentDelta = self.totalDelta
        func refusal(_ message: String) -> PrivacyRefusal {
            PrivacyRefusal(jobID: entry.jobID, spentEpsilon: spent, addedEpsilon: entry.epsilon, maxEpsilon: maxEpsilon,
                           spentDelta: spentDelta, addedDelta: entry.delta, maxDelta: maxDelta, message: message)
        }
        do {
            try entry.validate()
        } catch {
            return refusal("job '\(entry.jobID)' cannot be accounted: \(error.message)")
        }
        let jobs = self.entries.count == 1 ? "1 job" : "\(self.entries.count) jobs"
        if spent + entry.epsilon > maxEpsilon {
            return refusal(
                "this site has spent epsilon \(Self.format(spent)) over \(jobs); job '\(entry.jobID)' would add "
                    + "\(Self.format(entry.epsilon)), for a total of \(Self.format(spent + entry.epsilon)), above the "
                    + "site's max_epsilon of \(Self.format(maxEpsilon))")
        }
        if let maxDelta, spentDelta + entry.delta > maxDelta {
            return refusal(
                "this site has spent delta \(Self.format(spentDelta)) over \(jobs); job '\(entry.jobID)' would add "
                    + "\(Self.format(entry.delta)), above the site's max_delta of \(Self.format(maxDelta))")
        }
        return nil
    }

    /// `x` rounded to 6 significant digits (at most 15 decimals), e.g. 0.3 rather than 0.30000000000000004.
    static func format(_ x: Double) -> String {
        guard x.isFinite, x != 0 else { return "\(x)" }
        var scale = 1.0
        var decimals = 0
        while x.magnitude * scale < 1e5, decimals < 15 {
            scale *= 10
            decimals += 1
        }
        return "\((x * scale).rounded() / scale)"
    }
}
