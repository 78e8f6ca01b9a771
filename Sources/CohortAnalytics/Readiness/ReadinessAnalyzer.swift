public import CohortData
import Foundation

/// Data readiness before training: schema conformance, missingness, out-of-range values, label prevalence and
/// per-feature shift against the rest of the federation (standardised mean difference and population stability
/// index over shared bins).
///
/// A site's report is computed at the site, from its own rows and the federation's released aggregates of
/// ``query(schema:)``; the rest of the federation is the merged result minus what this site released.
public enum ReadinessAnalyzer {
    /// Where findings are flagged.
    public struct Thresholds: Sendable, Hashable, Codable {
        /// |SMD| at or above: moderate shift (info), large shift (warning).
        public var smdModerate = 0.2
        public var smdLarge = 0.5
        /// PSI at or above: moderate shift (info), major shift (warning).
        public var psiModerate = 0.1
        public var psiMajor = 0.25
        /// |prevalence - rest| at or above: warning, critical.
        public var prevalenceGap = 0.15
        public var prevalenceGapCritical = 0.3
        /// Spread of released site prevalences at or above which the federation is flagged.
        public var prevalenceRange = 0.2
        /// Missing share at or above: warning, critical.
        public var missingWarning = 0.2
        public var missingCritical = 0.5
        /// A single value holding at least this share of a site's values, at least `placeholderDistance` SDs from
        /// the rest's mean, while the rest holds at most half that share in its bin, is a likely placeholder.
        public var placeholderShare = 0.1
        public var placeholderDistance = 2.0
        /// Sites with fewer rows are flagged.
        public var fewRows = 50

        public init() {}
    }

    /// The federated query behind readiness: counts, moments, missing values and 10-bin histograms of every
    /// feature and the label, over all rows.
    public static func query(schema: DatasetSchema, minimumCellCount: Int? = nil) -> StatisticsQuery {
        let columns = schema.columns.filter { $0.role == .feature || $0.role == .label }.map(\.name)
        return StatisticsQuery(statistics: [.count, .mean, .standardDeviation, .histogram, .missing], columns: columns,
                               rows: .all, histogram: .init(bins: 10), minimumCellCount: minimumCellCount)
    }

    /// One site's report, computed at the site.
    ///
    /// - Parameters:
    ///   - released: The federation's answer to ``query(schema:minimumCellCount:)``.
    public static func siteReport(_ site: SiteData, released: StatisticsResult, thresholds: Thresholds = .init()) -> ReadinessReport {
        let plan = released.plan
        let tables = plan.tables(of: site)
        let schema = tables[0].schema
        let positions = plan.columns.map { c in schema.columns.firstIndex { $0.name == c.name } ?? 0 }
        let exact = SiteStatisticsEngine.compute(plan, tables: tables, positions: positions)[0]
        let rowCount = tables.reduce(0) { $0 + $1.rowCount }
        let own = released.sites.first { $0.site == site.name }?.groups.first
        let merged = released.federation.groups.first
        let k = released.sites.first { $0.site == site.name }?.minimumCellCount ?? SiteAnalyticsPolicy.standard.minimumCellCount
        var flags = [ReadinessFlag]()
        let conformance = Self.conformance(site, &flags)
        var features = [FeatureReadiness]()
        var label: LabelReadiness?
        let labelName = schema.labelColumn?.name
        for (i, pc) in plan.columns.enumerated() {
            let e = exact.columns[i]
            let mc = merged?.column(pc.name)
            let oc = own?.column(pc.name).flatMap { $0.suppression == nil ? $0 : nil }
            let restCounts: [Double]
            let siteCounts: [Double]
            let bins: [String]
            switch pc.kind {
            case .numeric:
                let grid = pc.histogram!
                bins = (0..<grid.cellCount).map { grid.label(ofCell: $0) }
                siteCounts = e.histogram.map(Double.init)
                restCounts = Self.rest(mc?.histogram, own: oc?.histogram, cells: grid.cellCount)
            case .binary, .categorical:
                bins = pc.levels
                siteCounts = e.levels.map(Double.init)
                restCounts = Self.rest(mc?.levels, own: oc?.levels, cells: pc.levels.count)
            }
            if pc.name == labelName {
                let n = siteCounts.reduce(0, +), rn = restCounts.reduce(0, +)
                label = LabelReadiness(column: pc.name, classes: bins, siteCounts: siteCounts, restCounts: restCounts,
                                       prevalence: n > 0 ? siteCounts.last! / n : nil, restPrevalence: rn > 0 ? restCounts.last! / rn : nil)
                continue
            }
            var f = FeatureReadiness(
                column: pc.name, kind: pc.kind.rawValue,
                missingFraction: e.count + e.missing > 0 ? Double(e.missing) / Double(e.count + e.missing) : 0,
                site: pc.kind == .categorical ? nil : e.moments, rest: nil, smd: nil, psi: nil,
                bins: bins, siteCounts: siteCounts, restCounts: restCounts)
            if let m = mc?.moments {
                f.rest = oc?.moments.map { m.removing($0) } ?? m
            }
            if let s = f.site, let r = f.rest { f.smd = ShiftMetrics.smd(s, r) }
            f.psi = ShiftMetrics.psi(siteCounts, restCounts)
            if pc.kind == .numeric {
                var counts = [Double: Int]()
                for t in tables {
                    guard case .numeric(let values)? = t.values(of: pc.name) else { continue }
                    for v in values where !v.isNaN { counts[v, default: 0] += 1 }
                }
                if let (v, c) = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }), e.count > 0, c >= k {
                    f.dominantValue = v
                    f.dominantShare = Double(c) / Double(e.count)
                }
            }
            var restMissing: Double?
            if let mm = mc?.missing, let mcount = mc?.count {
                let rm = mm - (oc?.missing ?? 0), rc = mcount - (oc?.count ?? 0)
                if rm + rc > 0 { restMissing = rm / (rm + rc) }
            }
            flags += Self.featureFlags(f, grid: pc.histogram, restMissing: restMissing, thresholds: thresholds)
            features.append(f)
        }
        if let l = label { flags += Self.labelFlags(l, site: site.name, thresholds: thresholds) }
        if rowCount < thresholds.fewRows {
            flags.append(ReadinessFlag(.warning, "few-rows", "only \(rowCount) rows: estimates at this site are noisy and it contributes little to training"))
        }
        return ReadinessReport(site: site.name, rows: rowCount, conformance: conformance, label: label, features: features, flags: flags.sorted())
    }

    /// The rest of the federation: merged counts minus this site's released counts.
    static func rest(_ merged: MergedCells?, own: [ReleasedCount]?, cells: Int) -> [Double] {
        guard let merged else { return [Double](repeating: 0, count: cells) }
        return merged.counts.enumerated().map { i, v in v - ((own?.count ?? 0) > i ? own![i].value ?? 0 : 0) }
    }

    static func conformance(_ site: SiteData, _ flags: inout [ReadinessFlag]) -> SchemaConformance {
        let reports = [site.trainReport] + (site.testReport.map { [$0] } ?? [])
        var c = SchemaConformance(rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, rowsDropped: 0, ignoredColumns: [],
                                  invalidValues: [:], unknownCategories: [:], outOfRange: [:])
        for r in reports {
            c.rowsRead += r.rowsRead
            c.rowsAccepted += r.rowsAccepted
            c.rowsRejected += r.rowsRejected
            c.rowsDropped += r.rowsDropped
            for col in r.ignoredColumns where !c.ignoredColumns.contains(col) { c.ignoredColumns.append(col) }
            for col in r.columns {
                if col.invalid > 0 { c.invalidValues[col.name, default: 0] += col.invalid }
                let unknown = col.unknownCategories.values.reduce(0, +)
                if unknown > 0 { c.unknownCategories[col.name, default: 0] += unknown }
                if col.outOfRange > 0 { c.outOfRange[col.name, default: 0] += col.outOfRange }
            }
        }
        if c.rowsRejected > 0 {
            flags.append(ReadinessFlag(.warning, "rejected-rows", "\(c.rowsRejected) of \(c.rowsRead) rows failed validation and were left out"))
        }
        if c.rowsDropped > 0 {
            flags.append(ReadinessFlag(.info, "dropped-rows", "\(c.rowsDropped) rows were dropped by the schema's missing or out-of-range policy"))
        }
        for (col, n) in c.unknownCategories.sorted(by: { $0.key < $1.key }) {
            flags.append(ReadinessFlag(.warning, "unknown-categories", column: col, "\(n) cells hold undeclared categories; recode them in a mapping"))
        }
        for (col, n) in c.invalidValues.sorted(by: { $0.key < $1.key }) {
            flags.append(ReadinessFlag(.warning, "invalid-values", column: col, "\(n) cells could not be read as the declared type"))
        }
        for (col, n) in c.outOfRange.sorted(by: { $0.key < $1.key }) {
            flags.append(ReadinessFlag(.warning, "out-of-range", column: col, "\(n) values lie outside the declared range (check units and sentinel codes)"))
        }
        if !c.ignoredColumns.isEmpty {
            flags.append(ReadinessFlag(.info, "ignored-columns", "columns not in the schema were ignored: \(c.ignoredColumns.joined(separator: ", "))"))
        }
        return c
    }
}
