import CohortTensor

/// Quality of a classifier on a set of examples.
///
/// For a binary outcome the positive class is class 1 and predictions are thresholded at 0.5. For several classes,
/// AUC is the macro average of one-vs-rest AUCs over classes that have both positives and negatives, F1 is the macro
/// average over classes, and the Brier score sums the squared error over classes.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
    /// Number of examples.
    public var count: Int
    /// Fraction classified correctly.
    public var accuracy: Double
    /// Mean recall over the classes present.
    public var balancedAccuracy: Double
    /// Area under the ROC curve; nil when only one class is present.
    public var auc: Double?
    /// Mean negative log-likelihood (probabilities clipped to [1e-15, 1 - 1e-15]).
    public var logLoss: Double
    /// F1 score of class 1 (binary) or macro F1.
    public var f1: Double
    /// Brier score.
    public var brier: Double

    enum CodingKeys: String, CodingKey {
        case count, accuracy, auc, f1, brier
        case balancedAccuracy = "balanced_accuracy"
        case logLoss = "loss"
    }

    /// Encodes undefined values (NaN, e.g. the accuracy of zero examples) as null, since JSON has no NaN.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func put(_ v: Double?, _ k: CodingKeys) throws {
            if let v, v.isFinite { try c.encode(v, forKey: k) } else { try c.encodeNil(forKey: k) }
        }
        try c.encode(self.count, forKey: .count)
        try put(self.accuracy, .accuracy)
        try put(self.balancedAccuracy, .balancedAccuracy)
        try put(self.auc, .auc)
        try put(self.logLoss, .logLoss)
        try put(self.f1, .f1)
        try put(self.brier, .brier)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get(_ k: CodingKeys) throws -> Double { try c.decodeIfPresent(Double.self, forKey: k) ?? .nan }
        self.count = try c.decode(Int.self, forKey: .count)
        self.accuracy = try get(.accuracy)
        self.balancedAccuracy = try get(.balancedAccuracy)
        self.auc = try c.decodeIfPresent(Double.self, forKey: .auc)
        self.logLoss = try get(.logLoss)
        self.f1 = try get(.f1)
        self.brier = try get(.brier)
    }

    public init(count: Int, accuracy: Double, balancedAccuracy: Double, auc: Double?, logLoss: Double, f1: Double, brier: Double) {
        self.count = count
        self.accuracy = accuracy
        self.balancedAccuracy = balancedAccuracy
        self.auc = auc
        self.logLoss = logLoss
        self.f1 = f1
        self.brier = brier
    }

    /// Computes every metric exactly from per-example class probabilities.
    ///
    /// - Parameters:
    ///   - probabilities: `count x classCount`, row-major.
    ///   - labels: True class of each example.
    public static func compute(probabilities: [Float], labels: [Int32], classCount: Int) -> ClassificationMetrics {
        let n = labels.count
        precondition(probabilities.count == n * classCount, "probabilities must be count x classCount")
        var confusion = [Int](repeating: 0, count: classCount * classCount)
        var logLoss = 0.0
        var brier = 0.0
        for i in 0..<n {
            let y = Int(labels[i])
            let row = probabilities[(i * classCount)..<((i + 1) * classCount)]
            let predicted = Self.predictedClass(row)
            confusion[y * classCount + predicted] += 1
            logLoss -= Math.log(min(max(Double(row[row.startIndex + y]), 1e-15), 1 - 1e-15))
            for c in 0..<classCount {
                let t: Double = c == y ? 1 : 0
                let e = Double(row[row.startIndex + c]) - t
                brier += e * e
            }
        }
        if classCount == 2 { brier /= 2 }  // binary Brier: (p1 - y)^2 once, not once per class
        var aucs = [Double]()
        for c in (classCount == 2 ? 1..<2 : 0..<classCount) {
            let scores = (0..<n).map { Double(probabilities[$0 * classCount + c]) }
            let positive = labels.map { Int($0) == c }
            if let a = exactAUC(scores: scores, positive: positive) { aucs.append(a) }
        }
        return Self.fromCounts(
            confusion: confusion, classCount: classCount, logLossSum: logLoss, brierSum: brier,
            auc: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count))
    }

    /// Metrics from a confusion matrix (rows: true class, columns: predicted) and sums.
    static func fromCounts(confusion: [Int], classCount: Int, logLossSum: Double, brierSum: Double, auc: Double?)
        -> ClassificationMetrics
    {
        let n = confusion.reduce(0, +)
        guard n > 0 else {
            return ClassificationMetrics(count: 0, accuracy: .nan, balancedAccuracy: .nan, auc: nil, logLoss: .nan, f1: .nan, brier: .nan)
        }
        var correct = 0
        var recalls = [Double]()
        var f1s = [Double]()
        for c in 0..<classCount {
            let tp = confusion[c * classCount + c]
            correct += tp
            let actual = (0..<classCount).reduce(0) { $0 + confusion[c * classCount + $1] }
            let predicted = (0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + c] }
            if actual > 0 { recalls.append(Double(tp) / Double(actual)) }
            let denom = actual + predicted
            f1s.append(denom == 0 ? 0 : 2 * Double(tp) / Double(denom))
        }
        let f1 = classCount == 2 ? f1s[1] : f1s.reduce(0, +) / Double(classCount)
        return ClassificationMetrics(
            count: n,
            accuracy: Double(correct) / Double(n),
            balancedAccuracy: recalls.reduce(0, +) / Double(recalls.count),
            auc: auc,
            logLoss: logLossSum / Double(n),
            f1: f1,
            brier: brierSum / Double(n))
    }

    /// Index of the largest probability (ties: lowest index); for two classes, class 1 iff `p1 >= 0.5`.
    static func predictedClass(_ row: ArraySlice<Float>) -> Int {
        if row.count == 2 { return row[row.startIndex + 1] >= 0.5 ? 1 : 0 }
        var best = 0
        for c in 1..<row.count where row[row.startIndex + c] > row[row.startIndex + best] { best = c }
        return best
    }

    /// ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted one half; nil when a class is absent.
    public static func exactAUC(scores: [Double], positive: [Bool]) -> Double? {
        let n = scores.count
        let order = (0..<n).sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var positives = 0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2  // ranks are 1-based
            for k in i...j where positive[order[k]] {
                rankSumPositive += averageRank
                positives += 1
            }
            i = j + 1
        }
        let negatives = n - positives
        guard positives > 0, negatives > 0 else { return nil }
        let p = Double(positives)
        return (rankSumPositive - p * (p + 1) / 2) / (p * Double(negatives))
    }
}
