public import CohortData
import Foundation

extension ReadinessAnalyzer {
    /// Readiness of a simulated federation: the readiness query over every site, each site's report, and the
    /// federation's view from released aggregates.
    public static func run(
        federation: Federation, policy: @Sendable (String) -> SiteAnalyticsPolicy = { _ in .standard },
        thresholds: Thresholds = .init()
    ) async throws(AnalyticsError) -> FederationReadiness {
        let released = try await FederatedStatistics.run(Self.query(schema: federation.schema), federation: federation, policy: policy)
        let reports = federation.sites.map { Self.siteReport($0, released: released, thresholds: thresholds) }
        return Self.federationReport(siteReports: reports, released: released, thresholds: thresholds)
    }

    /// The federation's view: per-site shift and prevalence from released aggregates only, plus the codes of the
    /// sites' own flags.
    public static func federationReport(siteReports: [ReadinessReport], released: StatisticsResult, thresholds t: Thresholds = .init()) -> FederationReadiness {
        let plan = released.plan
        let merged = released.federation.groups.first
        let labelName = siteReports.first?.label?.column
        let features = plan.columns.map(\.name).filter { $0 != labelName }
        var overview = [FederationReadiness.SiteOverview]()
        var flags = [ReadinessFlag]()
        for report in siteReports {
            let own = released.sites.first { $0.site == report.site }?.groups.first
            var o = FederationReadiness.SiteOverview(
                site: report.site, rows: own?.rows.value, prevalence: nil, smd: [:], psi: [:],
                flagCodes: report.flags.filter { $0.severity != .info }.map { f in f.column.map { "\(f.code) (\($0))" } ?? f.code },
                critical: report.flags.filter { $0.severity == .critical }.count,
                warnings: report.flags.filter { $0.severity == .warning }.count)
            for pc in plan.columns {
                guard let oc = own?.column(pc.name), oc.suppression == nil, let mc = merged?.column(pc.name) else { continue }
                if pc.name == labelName {
                    if let levels = oc.levels, levels.allSatisfy({ !$0.isSuppressed }), let n = oc.count, n > 0 {
                        o.prevalence = (levels.last?.value ?? 0) / n
                    }
                    continue
                }
                if let m = mc.moments, let s = oc.moments, let d = ShiftMetrics.smd(s, m.removing(s)) { o.smd[pc.name] = d }
                let cells = oc.histogram ?? oc.levels
                if let cells, cells.allSatisfy({ !$0.isSuppressed }), let total = mc.histogram ?? mc.levels {
                    let site = cells.map { $0.value ?? 0 }
                    let rest = zip(total.counts, site).map { $0 - $1 }
                    if let p = ShiftMetrics.psi(site, rest) { o.psi[pc.name] = p }
                }
            }
            overview.append(o)
        }
        let prevalences = overview.compactMap { o in o.prevalence.map { (o.site, $0) } }
        if let lo = prevalences.min(by: { $0.1 < $1.1 }), let hi = prevalences.max(by: { $0.1 < $1.1 }), hi.1 - lo.1 >= t.prevalenceRange {
            let withheld = overview.filter { $0.prevalence == nil }.map(\.site)
            flags.append(ReadinessFlag(.warning, "prevalence-range", column: labelName,
                                       "\(labelName ?? "label") prevalence ranges from \(pct(lo.1)) at \(lo.0) to \(pct(hi.1)) at \(hi.0)\(withheld.isEmpty ? "" : " (withheld at \(withheld.joined(separator: ", ")))"): sites differ in case mix or outcome definition; report per-site metrics"))
        }
        let siteFlags = siteReports.flatMap { r in r.flags.map { (r.site, $0) } }
        for code in ["placeholder-value", "single-class-label", "constant-column", "high-missingness", "out-of-range", "unknown-categories"] {
            let hits = siteFlags.filter { $0.1.code == code }
            for column in Set(hits.map { $0.1.column ?? "" }).sorted() {
                let sites = hits.filter { ($0.1.column ?? "") == column }.map(\.0)
                let severity = hits.filter { ($0.1.column ?? "") == column }.map(\.1.severity).max() ?? .warning
                flags.append(ReadinessFlag(severity, code, column: column.isEmpty ? nil : column,
                                           "\(code) at \(sites.count) site\(sites.count == 1 ? "" : "s"): \(sites.joined(separator: ", "))"))
            }
        }
        for f in features {
            let shifted = overview.filter { abs($0.smd[f] ?? 0) >= t.smdLarge || ($0.psi[f] ?? 0) >= t.psiMajor }.map(\.site)
            if !shifted.isEmpty {
                flags.append(ReadinessFlag(.info, "shifted-feature", column: f,
                                           "large shift (|SMD| >= \(t.smdLarge) or PSI >= \(t.psiMajor)) at \(shifted.joined(separator: ", "))"))
            }
        }
        for r in released.refusals {
            flags.append(ReadinessFlag(.warning, "refused", "\(r.site) refused the readiness query: \(r.refusal.reason)"))
        }
        return FederationReadiness(sites: siteReports, flags: flags.sorted(), overview: overview, features: features)
    }
}
