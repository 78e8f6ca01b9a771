public import CohortRuntime
import CohortCompression
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
        if let t = TrafficSummary(r.rounds) {
            lines.append(t.sentence(codec: r.config.settings.compression?.description))
        }
        if !r.refused.isEmpty { lines.append("\(r.refused.count) sites refused the job (privacy budget): \(r.refused.keys.sorted().joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }

    /// The personalisation table: per site, the global model against the personal head and the fine-tuned model
    /// (AUC and accuracy), then the mean improvement in one line.
    public static func personalization(_ p: PersonalizationResult, sites: [SiteDescription], maximumSiteRows: Int = 60) -> String {
        let columns = p.models
        let nameWidth = max(12, (sites.map(\.name.count).max() ?? 4) + 1)
        let widths = [nameWidth] + columns.flatMap { _ in [13, 7] } + [8]
        func row(_ cols: [String]) -> String {
            zip(cols, widths).enumerated().map { i, c in pad(c.0, c.1, right: i > 0) }.joined(separator: "  ")
        }
        var lines = ["Personalisation: global vs personalised models on each site's test data"
            + (p.personalTensors.isEmpty ? "" : " (personal layers: \(p.personalTensors.joined(separator: ", ")))") + ":"]
        lines.append(row(["site"] + columns.flatMap { [$0.0, ""] } + ["acc."]))
        lines.append(row([""] + columns.flatMap { _ in ["auc", "acc"] } + ["gain"]))
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        lines.append(rule)
        let shown = sites.count > maximumSiteRows ? Array(sites.sorted { $0.trainCount > $1.trainCount }.prefix(maximumSiteRows)) : sites
        for s in shown {
            let gain = p.personalized.sites[s.name].flatMap { m in p.global.sites[s.name].map { m.accuracy - $0.accuracy } }
            lines.append(row([s.name] + columns.flatMap { [fmt($0.1.sites[s.name]?.auc), fmt($0.1.sites[s.name]?.accuracy)] } + [signed(gain)]))
        }
        if shown.count < sites.count { lines.append("(\(sites.count - shown.count) smaller sites not shown; all are in metrics.csv)") }
        lines.append(rule)
        lines.append(row(["mean of sites"]
            + columns.flatMap { [fmt(PersonalizationResult.siteMean($0.1, \.auc)), fmt(PersonalizationResult.siteMean($0.1, \.accuracy))] }
            + [signed(p.meanAccuracyImprovement)]))
        lines.append(self.personalizationSummary(p))
        return lines.joined(separator: "\n")
    }

    /// One line: the mean improvement of the personalised models over the global one.
    public static func personalizationSummary(_ p: PersonalizationResult) -> String {
        var s = "Personalised (\(p.personalizedName)) vs global: \(signed(p.meanAccuracyImprovement)) mean site accuracy"
            + " (\(fmt(PersonalizationResult.siteMean(p.personalized, \.accuracy))) vs \(fmt(PersonalizationResult.siteMean(p.global, \.accuracy))))"
        if let a = p.meanAUCImprovement { s += ", \(signed(a)) mean site AUC" }
        s += "; better at \(p.sitesImproved) of \(p.sitesCompared) sites"
        if p.sitesCompared < p.global.sites.count { s += " with test data" }
        return s + "."
    }

    /// A signed difference with three decimals, or "-".
    static func signed(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return String(format: "%+.3f", v)
    }

    static func fmt(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return String(format: "%.3f", v)
    }

    static func pad(_ s: String, _ n: Int, right: Bool) -> String {
        s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
}

/// Bytes moved over a run: per round and site, sent as encoded and as they would have been dense.
struct TrafficSummary {
    var rounds: Int
    var siteRounds: Int
    var up: Int
    var upDense: Int
    var down: Int

    init?(_ records: [RoundRecord]) {
        let all = records.compactMap(\.traffic)
        guard !all.isEmpty else { return nil }
        self.rounds = all.count
        self.siteRounds = all.reduce(0) { $0 + $1.count }
        self.up = all.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.up } }
        self.upDense = all.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.upDense } }
        self.down = all.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.down } }
    }

    var upPerSiteRound: Double { Double(self.up) / Double(max(1, self.siteRounds)) }
    var saving: Double { self.upDense > 0 ? 1 - Double(self.up) / Double(self.upDense) : 0 }

    func sentence(codec: String?) -> String {
        let base = "Traffic: \(Self.bytes(self.upPerSiteRound)) uploaded per site per round"
        guard let codec else { return base + " (dense Float32), \(Self.bytes(Double(self.down) / Double(max(1, self.siteRounds)))) downloaded." }
        return base + String(format: " with %@, against %@ dense: %.1f%% fewer bytes.", codec,
                             Self.bytes(Double(self.upDense) / Double(max(1, self.siteRounds))), 100 * self.saving)
    }

    static func bytes(_ b: Double) -> String {
        if b >= 1_048_576 { return String(format: "%.2f MiB", b / Double(1 << 20)) }
        if b >= 1024 { return String(format: "%.1f KiB", b / Double(1 << 10)) }
        return String(format: "%.0f B", b)
    }
}
