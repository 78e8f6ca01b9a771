import CohortTensor

/// Mergeable sufficient statistics of a classifier's predictions on one site's examples.
///
/// A summary holds counts and sums only, never per-example values: the confusion matrix, the sums of log loss and
/// Brier error, and for each scored class two histograms (positives, negatives) of the predicted probability on a
/// logit scale. Summaries from many sites merge into the summary of all their examples together, which gives the
/// pooled ("global") metrics without moving predictions off a site. Every metric is exact except AUC, which is
/// computed from the histograms (2,048 bins over logit(p) in [-12, 12], ties within a bin counted one half).
public struct EvaluationSummary: Sendable, Hashable, Codable {
    /// Number of score bins per histogram.
    public static let binCount = 2048
    static let logitRange: Double = 12

    public var classCount: Int
    /// `classCount x classCount`, rows = true class, columns = predicted class.
    public var confusion: [Int]
    public var logLossSum: Double
    public var brierSum: Double
    /// For each scored class (class 1 only when binary): `binCount` positive counts, then `binCount` negative counts.
    public var histograms: [Int]

    /// An empty summary.
    public init(classCount: Int) {
        self.classCount = classCount
        self.confusion = [Int](repeating: 0, count: classCount * classCount)
        self.logLossSum = 0
        self.brierSum = 0
        self.histograms = [Int](repeating: 0, count: Self.scoredClasses(classCount) * 2 * Self.binCount)
    }

    /// The summary of per-example class probabilities (`count x classCount`).
    public init(probabilities: [Float], labels: [Int32], classCount: Int) {
        self.init(classCount: classCount)
        let n = labels.count
        for i in 0..<n {
            let y = Int(labels[i])
            let row = probabilities[(i * classCount)..<((i + 1) * classCount)]
            self.confusion[y * classCount + ClassificationMetrics.predictedClass(row)] += 1
            self.logLossSum -= Math.log(min(max(Double(row[row.startIndex + y]), 1e-15), 1 - 1e-15))
            var b = 0.0
            for c in 0..<classCount {
                let e = Double(row[row.startIndex + c]) - (c == y ? 1 : 0)
                b += e * e
            }
            self.brierSum += classCount == 2 ? b / 2 : b
            for (slot, c) in Self.scoredClassList(classCount).enumerated() {
                let bin = Self.bin(row[row.startIndex + c])
                let base = slot * 2 * Self.binCount
                self.histograms[base + (y == c ? 0 : Self.binCount) + bin] += 1
            }
        }
    }

    /// Number of examples.
    public var count: Int { self.confusion.reduce(0, +) }

    /// Adds another summary (same class count).
    public mutating func merge(_ other: EvaluationSummary) {
        precondition(other.classCount == self.classCount, "cannot merge summaries with different class counts")
        for i in self.confusion.indices { self.confusion[i] += other.confusion[i] }
        for i in self.histograms.indices { self.histograms[i] += other.histograms[i] }
        self.logLossSum += other.logLossSum
        self.brierSum += other.brierSum
    }

    /// The metrics of all summarised examples.
    public var metrics: ClassificationMetrics {
        var aucs = [Double]()
        for slot in 0..<Self.scoredClasses(self.classCount) {
            let base = slot * 2 * Self.binCount
            let pos = self.histograms[base..<(base + Self.binCount)]
            let neg = self.histograms[(base + Self.binCount)..<(base + 2 * Self.binCount)]
            if let a = Self.histogramAUC(positives: Array(pos), negatives: Array(neg)) { aucs.append(a) }
        }
        return ClassificationMetrics.fromCounts(
            confusion: self.confusion, classCount: self.classCount,
            logLossSum: self.logLossSum, brierSum: self.brierSum,
            auc: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count))
    }

    static func scoredClasses(_ classCount: Int) -> Int { classCount == 2 ? 1 : classCount }
    static func scoredClassList(_ classCount: Int) -> [Int] { classCount == 2 ? [1] : Array(0..<classCount) }

    static func bin(_ p: Float) -> Int {
        let q = min(max(Double(p), 1e-300), 1 - 1e-16)
        let logit = Math.log(q) - Math.log1p(-q)
        let t = (min(max(logit, -logitRange), logitRange) + logitRange) / (2 * logitRange)
        return min(binCount - 1, Int(t * Double(binCount)))
    }

    static func histogramAUC(positives: [Int], negatives: [Int]) -> Double? {
        let p = positives.reduce(0, +), n = negatives.reduce(0, +)
        guard p > 0, n > 0 else { return nil }
        var below = 0.0
        var area = 0.0
        for b in 0..<positives.count {
            area += Double(positives[b]) * (below + 0.5 * Double(negatives[b]))
            below += Double(negatives[b])
        }
        return area / (Double(p) * Double(n))
    }
}
