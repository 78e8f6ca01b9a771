/// A differential-privacy request that cannot be carried out: an invalid parameter or an unreachable target.
///
/// The description reads `CODE: MESSAGE (HINT)`; the hint says what to do. Compare errors by ``code``: the message
/// is for people and may change.
public struct PrivacyError: Error, Hashable, CustomStringConvertible {
    /// Kinds of privacy errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { self.value }

        /// A parameter is outside its domain (e.g. a sampling rate above 1 or a negative noise multiplier).
        public static let invalidArgument = Code("invalid-argument")
        /// No noise multiplier in the searched range reaches the requested (epsilon, delta).
        public static let unreachableTarget = Code("unreachable-target")
        /// A ledger entry would take the spent budget past the site's limit.
        public static let budgetExceeded = Code("budget-exceeded")
    }

    public var code: Code
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var s = "\(self.code): \(self.message)"
        if let hint { s += " (\(hint))" }
        return s
    }

    /// Compares codes only: messages are for people.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension PrivacyError {
    /// Checks `samplingRate ∈ [0, 1]` (or `(0, 1]` when `allowZero` is false).
    static func checkSamplingRate(_ q: Double, allowZero: Bool = true) throws(PrivacyError) {
        let ok = q.isFinite && q <= 1 && (allowZero ? q >= 0 : q > 0)
        guard ok else {
            throw PrivacyError(
                .invalidArgument, "sampling rate \(q) is outside \(allowZero ? "[0, 1]" : "(0, 1]")",
                hint: "pass the probability that one record (or site) takes part in a step, e.g. batch / dataset size")
        }
    }

    /// Checks that a noise multiplier is finite and non-negative (or positive when `allowZero` is false).
    static func checkNoiseMultiplier(_ z: Double, allowZero: Bool = true) throws(PrivacyError) {
        guard z.isFinite, allowZero ? z >= 0 : z > 0 else {
            throw PrivacyError(
                .invalidArgument, "noise multiplier \(z) must be finite and \(allowZero ? "non-negative" : "positive")",
                hint: "the noise multiplier is the noise standard deviation divided by the L2 sensitivity (clip norm)")
        }
    }

    /// Checks a step count (at least `minimum`).
    static func checkSteps(_ steps: Int, minimum: Int = 0) throws(PrivacyError) {
        guard steps >= minimum else {
            throw PrivacyError(.invalidArgument, "steps \(steps) must be at least \(minimum)",
                               hint: "count every noisy aggregation (round or optimiser step) the data takes part in")
        }
    }

    /// Checks `delta ∈ (0, 1)`.
    static func checkDelta(_ delta: Double) throws(PrivacyError) {
        guard delta.isFinite, delta > 0, delta < 1 else {
            throw PrivacyError(.invalidArgument, "delta \(delta) is outside (0, 1)",
                               hint: "use a delta well below 1/number of records, e.g. 1e-5")
        }
    }

    /// Checks that epsilon is finite and positive.
    static func checkEpsilon(_ epsilon: Double) throws(PrivacyError) {
        guard epsilon.isFinite, epsilon > 0 else {
            throw PrivacyError(.invalidArgument, "epsilon \(epsilon) must be finite and positive",
                               hint: "typical targets are between 0.5 and 10")
        }
    }
}
