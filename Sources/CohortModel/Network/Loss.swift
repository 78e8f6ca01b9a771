/// The training loss: cross-entropy (binary or multi-class) with optional class weights and L2 penalty.
public struct LossConfig: Sendable, Hashable, Codable {
    /// Per-class weights multiplying each example's loss (nil: all 1).
    public var classWeights: [Float]?
    /// L2 penalty `lambda / 2 * ||W||^2` on weights (not biases).
    public var l2: Float

    public init(classWeights: [Float]? = nil, l2: Float = 0) {
        self.classWeights = classWeights
        self.l2 = l2
    }

    /// "Balanced" class weights, `n / (classes * n_c)`, as in scikit-learn.
    public static func balancedWeights(classCounts: [Int]) -> [Float] {
        let n = classCounts.reduce(0, +)
        return classCounts.map { $0 == 0 ? 0 : Float(n) / Float(classCounts.count * $0) }
    }
}
