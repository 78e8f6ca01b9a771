import Foundation

extension ReadinessAnalyzer {
    static func pct(_ v: Double) -> String { String(format: "%.0f%%", 100 * v) }
    static func num(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return abs(v) >= 100 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    /// Findings about one feature.
    static func featureFlags(_ f: FeatureReadiness, grid: BinGrid?, restMissing: Double?, thresholds t: Thresholds) -> [ReadinessFlag] {
        var out = [ReadinessFlag]()
        let col = f.column
        if f.missingFraction >= t.missingCritical {
            out.append(ReadinessFlag(.critical, "high-missingness", column: col, "\(pct(f.missingFraction)) of values are missing"))
        } else if f.missingFraction >= t.missingWarning {
            out.append(ReadinessFlag(.warning, "high-missingness", column: col, "\(pct(f.missingFraction)) of values are missing"))
        } else if let rm = restMissing, f.missingFraction >= 0.05, f.missingFraction >= 3 * rm {
            out.append(ReadinessFlag(.warning, "missingness-above-federation", column: col,
                                     "\(pct(f.missingFraction)) of values are missing here, \(pct(rm)) in the rest of the federation"))
        }
        var placeholder = false
        if let v = f.dominantValue, let share = f.dominantShare, let rest = f.rest, let sd = rest.standardDeviation, sd > 0,
           let grid, share >= t.placeholderShare
        {
            let z = abs(v - rest.mean) / sd
            let total = f.restCounts.reduce(0) { $0 + max(0, $1) }
            let restShare = total > 0 ? max(0, f.restCounts[grid.cell(of: v)]) / total : 0
            if z >= t.placeholderDistance && restShare <= share / 2 {
                placeholder = true
                out.append(ReadinessFlag(
                    share >= 0.5 ? .critical : .warning, "placeholder-value", column: col,
                    "\(pct(share)) of values are exactly \(num(v)), \(String(format: "%.1f", z)) SD from the rest of the federation's mean \(num(rest.mean)) (its bin holds \(pct(restShare)) of their values): \(num(v)) probably codes 'not recorded'; map it to missing before training (a mapping's `missing: {\(col): [\"\(num(v))\"]}`, spelled as in the file)"))
            }
        }
        // A placeholder explains the column's shift; do not flag it three times.
        guard !placeholder else { return out }
        if let s = f.site, let r = f.rest, s.count >= 2, (s.variance ?? 0) == 0, (r.variance ?? 0) > 0 {
            out.append(ReadinessFlag(.warning, "constant-column", column: col, "every value here is \(num(s.mean)) while it varies elsewhere; the feature carries no information at this site"))
        }
        let smd = f.smd.map(abs) ?? 0, psi = f.psi ?? 0
        if smd >= t.smdModerate || psi >= t.psiModerate {
            let large = smd >= t.smdLarge || psi >= t.psiMajor
            let parts = [f.smd.map { "standardised mean difference \(String(format: "%+.2f", $0))" }, f.psi.map { "PSI \(String(format: "%.2f", $0))" }].compactMap { $0 }
            out.append(ReadinessFlag(large ? .warning : .info, "distribution-shift", column: col,
                                     "\(large ? "large" : "moderate") shift against the rest of the federation: \(parts.joined(separator: ", "))"))
        }
        return out
    }

    /// Findings about the label.
    static func labelFlags(_ l: LabelReadiness, site: String, thresholds t: Thresholds) -> [ReadinessFlag] {
        var out = [ReadinessFlag]()
        let present = l.siteCounts.filter { $0 > 0 }.count
        if present == 1 {
            out.append(ReadinessFlag(.critical, "single-class-label", column: l.column,
                                     "every row has the same label: the site cannot evaluate a classifier (AUC is undefined) and pulls a shared model toward that class"))
        }
        if l.classes.count == 2, let p = l.prevalence, let r = l.restPrevalence {
            let gap = p - r
            if abs(gap) >= t.prevalenceGap {
                out.append(ReadinessFlag(abs(gap) >= t.prevalenceGapCritical ? .critical : .warning, "label-prevalence-gap", column: l.column,
                                         "\(l.column) = \(l.classes[1]) in \(pct(p)) of rows here and \(pct(r)) in the rest of the federation (\(String(format: "%+.0f", 100 * gap)) points): expect calibration to differ between sites; compare per-site metrics, not only pooled ones"))
            }
        } else if let psi = ShiftMetrics.psi(l.siteCounts, l.restCounts), psi >= t.psiMajor {
            out.append(ReadinessFlag(.warning, "label-shift", column: l.column,
                                     "the class mix differs from the rest of the federation (PSI \(String(format: "%.2f", psi)))"))
        }
        return out
    }
}
