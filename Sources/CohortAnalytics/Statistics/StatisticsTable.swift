import CohortData

/// A flat view of a ``StatisticsResult``: one row per statistic, column, group and site (plus the federation),
/// for CSV output and quick inspection.
public struct StatisticsRow: Sendable, Hashable, Codable {
    /// The site, or ``StatisticsRow/federation`` for merged values.
    public var site: String
    public var group: String
    public var column: String
    public var statistic: String
    /// A bin, level, quantile (`p50`) or partner column, when the statistic has several values.
    public var item: String
    public var value: Double?
    public var suppressed: Bool
    /// Why a value was withheld, or which sites a merged value leaves out.
    public var note: String
    /// Quantiles: the largest distance to the true value.
    public var errorBound: Double?

    /// The site name of merged rows.
    public static let federation = "federation"

    /// CSV header.
    public static let csvHeader = "site,group,column,statistic,item,value,suppressed,note,error_bound"

    public var csvLine: String {
        [self.site, self.group, self.column, self.statistic, self.item, self.value.map { "\($0)" } ?? "", self.suppressed ? "true" : "false",
         self.note, self.errorBound.map { "\($0)" } ?? ""].map { CSVParser.escape($0) }.joined(separator: ",")
    }
}

extension StatisticsResult {
    /// Every site's released values and the merged values, in site order then the federation.
    public var rows: [StatisticsRow] {
        var out = [StatisticsRow]()
        let wants = Set(self.plan.query.statistics)
        for s in self.sites {
            for (gi, g) in s.groups.enumerated() {
                let key = self.plan.groupKeys[gi]
                out.append(Self.row(s.site, key, "", "rows", "", g.rows.value, g.rows.suppression))
                for (pc, c) in zip(self.plan.columns, g.columns) {
                    out += Self.siteColumnRows(site: s.site, group: key, column: pc, summary: c, wants: wants)
                }
                if let cov = g.covariance { out += Self.covarianceRows(s.site, key, cov.columns, cov.moments, cov.suppression, wants: wants) }
            }
        }
        for (gi, g) in self.federation.groups.enumerated() {
            let key = self.plan.groupKeys[gi]
            let f = StatisticsRow.federation
            out.append(StatisticsRow(site: f, group: key, column: "", statistic: "rows", item: "", value: g.rows, suppressed: false,
                                     note: Self.note(g.excludedSites), errorBound: nil))
            for (pc, c) in zip(self.plan.columns, g.columns) {
                let note = Self.note(c.excludedSites)
                func add(_ stat: String, _ item: String, _ v: Double?, _ n: String = note, bound: Double? = nil) {
                    out.append(StatisticsRow(site: f, group: key, column: pc.name, statistic: stat, item: item, value: v, suppressed: false, note: n, errorBound: bound))
                }
                add("count", "", c.count)
                if wants.contains(.missing) { add("missing", "", c.missing) }
                if c.moments != nil {
                    if wants.contains(.sum) { add("sum", "", c.sum) }
                    if wants.contains(.mean) { add("mean", "", c.mean) }
                    if wants.contains(.variance) { add("variance", "", c.variance) }
                    if wants.contains(.standardDeviation) { add("std", "", c.standardDeviation) }
                }
                if wants.contains(.minimum) { add("min", "", c.minimum) }
                if wants.contains(.maximum) { add("max", "", c.maximum) }
                if let h = c.histogram, let grid = pc.histogram {
                    for i in h.counts.indices { add("histogram", grid.label(ofCell: i), h.counts[i], Self.note(h.withheldAt[i] + c.excludedSites)) }
                }
                if let l = c.levels {
                    for i in l.counts.indices { add("level", pc.levels[i], l.counts[i], Self.note(l.withheldAt[i] + c.excludedSites)) }
                }
                for q in c.quantiles ?? [] { add("quantile", "p\(Self.percent(q.probability))", q.value, bound: q.errorBound) }
            }
            if let cov = g.covariance {
                let note = Self.note(cov.excludedSites)
                for (i, a) in cov.columns.enumerated() {
                    for (j, b) in cov.columns.enumerated() {
                        if wants.contains(.covariance) {
                            out.append(StatisticsRow(site: f, group: key, column: a, statistic: "covariance", item: b, value: cov.covariance[i][j], suppressed: false, note: note, errorBound: nil))
                        }
                        if wants.contains(.correlation) {
                            out.append(StatisticsRow(site: f, group: key, column: a, statistic: "correlation", item: b, value: cov.correlation[i][j], suppressed: false, note: note, errorBound: nil))
                        }
                    }
                }
            }
        }
        return out
    }

    /// The rows as CSV text.
    public var csv: String { ([StatisticsRow.csvHeader] + self.rows.map(\.csvLine)).joined(separator: "\n") + "\n" }

    static func percent(_ p: Double) -> String {
        let v = p * 100
        return v == v.rounded() ? String(Int(v)) : String(v)
    }

    static func note(_ sites: [String]) -> String {
        sites.isEmpty ? "" : "excludes values withheld by \(Array(Set(sites)).sorted { NaturalOrder.less($0, $1) }.joined(separator: " "))"
    }

    static func row(_ site: String, _ group: String, _ column: String, _ stat: String, _ item: String, _ v: Double?, _ s: Suppression?) -> StatisticsRow {
        StatisticsRow(site: site, group: group, column: column, statistic: stat, item: item, value: s == nil ? v : nil,
                      suppressed: s != nil, note: s?.description ?? "", errorBound: nil)
    }

    static func siteColumnRows(site: String, group: String, column pc: QueryPlan.Column, summary c: ColumnSummary, wants: Set<Statistic>) -> [StatisticsRow] {
        var out = [StatisticsRow]()
        func add(_ stat: String, item: String = "", _ v: Double?, _ s: Suppression? = nil) {
            out.append(Self.row(site, group, pc.name, stat, item, v, s ?? c.suppression))
        }
        add("count", c.count)
        if wants.contains(.missing) { add("missing", c.missing) }
        let moments = c.moments
        let momentsWithheld = c.suppression == nil && moments == nil && pc.kind == .binary
            ? Suppression(.complementary, "a level count is withheld and the mean would reveal it") : nil
        if pc.kind != .categorical {
            if wants.contains(.sum) { add("sum", moments?.total, momentsWithheld) }
            if wants.contains(.mean) { add("mean", moments.map { $0.count > 0 ? $0.mean : nil } ?? nil, momentsWithheld) }
            if wants.contains(.variance) { add("variance", moments?.variance, momentsWithheld) }
            if wants.contains(.standardDeviation) { add("std", moments?.standardDeviation, momentsWithheld) }
        }
        if wants.contains(.minimum) { add("min", c.minimum) }
        if wants.contains(.maximum) { add("max", c.maximum) }
        if let grid = pc.histogram {
            for i in 0..<grid.cellCount {
                let cell = c.histogram?[i]
                add("histogram", item: grid.label(ofCell: i), cell?.value, cell?.suppression)
            }
        }
        if pc.kind != .numeric {
            for (i, level) in pc.levels.enumerated() {
                let cell = c.levels?[i]
                add("level", item: level, cell?.value, cell?.suppression)
            }
        }
        return out
    }

    static func covarianceRows(_ site: String, _ group: String, _ columns: [String], _ m: CoMoments?, _ s: Suppression?, wants: Set<Statistic>) -> [StatisticsRow] {
        var out = [StatisticsRow]()
        for (i, a) in columns.enumerated() {
            for (j, b) in columns.enumerated() {
                if wants.contains(.covariance) { out.append(Self.row(site, group, a, "covariance", b, m?.covariance(i, j), s)) }
                if wants.contains(.correlation) { out.append(Self.row(site, group, a, "correlation", b, m?.correlation(i, j), s)) }
            }
        }
        return out
    }
}
