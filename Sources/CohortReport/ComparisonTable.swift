public import CohortRuntime
import CohortModel
import CohortStrategy
import Foundation

/// The end-of-run text table: per site and overall, local-only versus federated versus centralized.
public enum ComparisonTable {
    /// Renders the table (AUC and accuracy; sites sorted by training size when there are many).
    public static func render(_ r: SimulationResult, maximumSiteRows: Int = 60) -> String {
        var lines = [String]()
        let nameWidth = max(12, (r.sites.map(\.name.count).max() ?? 4) + 1)
        func row(_ cols: [String], _ widths: [Int]) -> String {
            zip(cols, widths).enumerated().map { i, p in pad(p.0, p.1, right: i > 0) }.joined(separator: "  ")
        }
        let widths = [nameWidth, 6, 6, 9, 9, 9, 9, 9, 9]
        lines.append("AUC and accuracy on each site's test data (\(r.config.strategy), \(r.rounds.count) rounds):")
        lines.append(row(["site", "train", "test", "local", "", "federated", "", "central.", ""], widths))
        lines.append(row(["", "", "", "auc", "acc", "auc", "acc", "auc", "acc"], widths))
        lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
        let local = Dictionary(uniqueKeysWithValues: (r.local ?? []).map { ($0.site, $0.metrics) })
        let sites = r.sites.count > maximumSiteRows
            ? Array(r.sites.sorted { $0.trainCount > $1.trainCount }.prefix(maximumSiteRows))
            : r.sites
        for s in sites {
            let l = local[s.name], f = r.final.sites[s.name], c = r.centralized?.sites[s.name]
            lines.append(row([s.name, "\(s.trainCount)", "\(s.testCount)", fmt(l?.auc), fmt(l?.accuracy),
                              fmt(f?.auc), fmt(f?.accuracy), fmt(c?.auc), fmt(c?.accuracy)], widths))
        }
        if sites.count < r.sites.count { lines.append("(\(r.sites.count - sites.count) smaller sites not shown; all are in metrics.csv)") }
        lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
        let localMean = r.local.map { ClassificationMetrics.mean($0.map(\.metrics)) }
        lines.append(row(["mean of sites", "", "", fmt(localMean?.auc), fmt(localMean?.accuracy),
                          fmt(r.final.siteMean.auc), fmt(r.final.siteMean.accuracy),
                          fmt(r.centralized?.siteMean.auc), fmt(r.centralized?.siteMean.accuracy)], widths))
        lines.append(row(["all test rows", "", "\(r.final.global.count)", "", "",
                          fmt(r.final.global.auc), fmt(r.final.global.accuracy),
                          fmt(r.centralized?.global.auc), fmt(r.centralized?.global.accuracy)], widths))
        if let lm = localMean, let la = lm.auc, let fa = r.final.siteMean.auc {
            var s = String(format: "Federated vs local-only: %+.3f mean site AUC", fa - la)
            if let ca = r.centralized?.siteMean.auc { s += String(format: "; centralized - federated: %+.3f", ca - fa) }
            let better = r.sites.filter { (r.final.sites[$0.name]?.auc ?? 0) > (local[$0.name]?.auc ?? 1) }.count
            s += ". Federation beats training alone at \(better) of \(r.sites.count) sites."
            lines.append(s)
        }
        if let p = r.rounds.last?.privacy {
            var s = String(format: "With differential privacy (epsilon %.3g, delta %.0e, %@-level)", p.epsilon, p.delta, p.unit)
            if let a = r.nonPrivate?.siteMean.auc, let b = r.final.siteMean.auc {
                s += String(format: ": mean site AUC %.3f; without privacy %.3f (cost %.3f)", b, a, a - b)
            }
            lines.append(s + ".")
        }
        if !r.refused.isEmpty { lines.append("\(r.refused.count) sites refused the job (privacy budget): \(r.refused.keys.sorted().joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }

    static func fmt(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return String(format: "%.3f", v)
    }

    static func pad(_ s: String, _ n: Int, right: Bool) -> String {
        s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
}
