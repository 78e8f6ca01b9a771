import CohortModel
import CohortTensor
import Testing

@Suite("Metrics")
struct MetricsTests {
    static func binary(_ p: [Float]) -> [Float] { p.flatMap { [1 - $0, $0] } }

    @Test("binary metrics match hand-computed values")
    func binaryByHand() {
        // scores and labels chosen so every quantity is easy to compute by hand.
        let p: [Float] = [0.1, 0.4, 0.35, 0.8, 0.6, 0.2]
        let y: [Int32] = [0, 0, 1, 1, 0, 1]
        let m = ClassificationMetrics.compute(probabilities: Self.binary(p), labels: y, classCount: 2)
        // Predicted (>= 0.5): 0 0 0 1 1 0. TP=1 (0.8), FP=1 (0.6), FN=2 (0.35, 0.2), TN=2.
        #expect(m.accuracy == 3.0 / 6.0)
        #expect(abs(m.balancedAccuracy - (1.0 / 3.0 + 2.0 / 3.0) / 2) < 1e-12)
        #expect(abs(m.f1 - 2.0 / (2 + 1 + 2)) < 1e-12)
        // AUC: positives {0.35, 0.8, 0.2}, negatives {0.1, 0.4, 0.6}; pairs won: 0.35>0.1; 0.8>all 3; 0.2>0.1 => 5/9.
        #expect(abs(m.auc! - 5.0 / 9.0) < 1e-12)
        let terms: [Double] = [0.9, 0.6, 0.35, 0.8, 0.4, 0.2].map { log($0) }
        let ll = -terms.reduce(0, +) / 6
        #expect(abs(m.logLoss - ll) < 1e-6)
        let squares: [Double] = [0.01, 0.16, 0.4225, 0.04, 0.36, 0.64]
        let brier = squares.reduce(0, +) / 6
        #expect(abs(m.brier - brier) < 1e-6)
    }

    @Test("ties count one half in AUC; one class only gives no AUC")
    func aucTies() {
        #expect(ClassificationMetrics.exactAUC(scores: [0.5, 0.5, 0.5, 0.5], positive: [true, false, true, false]) == 0.5)
        #expect(ClassificationMetrics.exactAUC(scores: [0.2, 0.7, 0.7], positive: [false, true, false]) == 0.75)
        #expect(ClassificationMetrics.exactAUC(scores: [0.2, 0.7], positive: [true, true]) == nil)
    }

    @Test("multi-class: macro one-vs-rest AUC, macro F1, argmax accuracy")
    func multiclass() {
        let p: [Float] = [0.7, 0.2, 0.1,  0.1, 0.8, 0.1,  0.2, 0.3, 0.5,  0.5, 0.4, 0.1]
        let y: [Int32] = [0, 1, 2, 1]
        let m = ClassificationMetrics.compute(probabilities: p, labels: y, classCount: 3)
        #expect(m.accuracy == 0.75)
        // Class 0 vs rest: positive 0.7 vs negatives {0.1, 0.2, 0.5} -> 1. Class 1: positives {0.8, 0.4} vs {0.2, 0.3}
        // -> 1. Class 2: positive 0.5 vs {0.1, 0.1, 0.1} -> 1.
        #expect(m.auc == 1)
        // F1 per class: c0: tp1 fp1 fn0 -> 2/3; c1: tp1 fp0 fn1 -> 2/3; c2: tp1 -> 1. Macro 7/9.
        #expect(abs(m.f1 - 7.0 / 9.0) < 1e-12)
    }

    @Test("pooled summaries give exact counts and losses, and AUC within the histogram resolution")
    func pooledSummaries() {
        var rng = RandomSource(seed: 3)
        var allP = [Float](), allY = [Int32]()
        var pooled = EvaluationSummary(classCount: 2)
        for site in 0..<5 {
            let n = 200 + 50 * site
            var p = [Float](), y = [Int32]()
            for _ in 0..<n {
                let label: Int32 = rng.bernoulli(0.3) ? 1 : 0
                let score = 1 / (1 + exp(-(rng.gaussian() + (label == 1 ? 1.2 : 0))))
                p.append(Float(score))
                y.append(label)
            }
            pooled.merge(EvaluationSummary(probabilities: Self.binary(p), labels: y, classCount: 2))
            allP += p
            allY += y
        }
        let exact = ClassificationMetrics.compute(probabilities: Self.binary(allP), labels: allY, classCount: 2)
        let fromSummary = pooled.metrics
        #expect(fromSummary.count == exact.count)
        #expect(fromSummary.accuracy == exact.accuracy)
        #expect(fromSummary.f1 == exact.f1)
        #expect(abs(fromSummary.logLoss - exact.logLoss) < 1e-9)
        #expect(abs(fromSummary.brier - exact.brier) < 1e-9)
        #expect(abs(fromSummary.auc! - exact.auc!) < 2e-3)
    }
}

import Foundation
