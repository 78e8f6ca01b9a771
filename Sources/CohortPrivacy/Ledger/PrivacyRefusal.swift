/// A ledger's reason to refuse a job: the spent budget, what the job would add and the limit, in words.
public struct PrivacyRefusal: Sendable, Hashable, CustomStringConvertible {
    public var jobID: String
    /// `ε` spent before the job.
    public var spentEpsilon: Double
    /// The job's `ε`.
    public var addedEpsilon: Double
    /// The site's `max_epsilon`.
    public var maxEpsilon: Double
    /// `δ` spent before the job.
    public var spentDelta: Double
    /// The job's `δ`.
    public var addedDelta: Double
    /// The site's `δ` limit, if any.
    public var maxDelta: Double?
    /// The explanation, e.g. "this site has spent epsilon 2.5 over 2 jobs; job 'j3' would add 1, for a total of 3.5,
    /// above the site's max_epsilon of 3".
    public var message: String

    public var description: String { self.message }
}
