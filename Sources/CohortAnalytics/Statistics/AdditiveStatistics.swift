/// Site answers as vectors that add up, for secure aggregation: the coordinator then sees only the elementwise sum
/// over sites, never one site's partials.
///
/// Each site releases through the same disclosure control (and noise) as without secure aggregation, then encodes
/// its ``SiteStatistics`` with ``encode(_:plan:)``. A withheld value contributes 0 and a 1 in its cell's withheld
/// counter, so the total says how many sites withheld a cell, not which. Moments travel as sums about a fixed
/// centre per column, `(n, Σ(x - c), Σ(x - c)²)` with `c` the midpoint of the column's declared range (0 without
/// one), so that the sum is exact and the merged variance `(S₂ - S₁²/N) / (N - 1)` loses little to cancellation
/// when `c` lies near the data. Covariance travels the same way, as the complete-case count, the centred sums and
/// the centred cross products.
///
/// Quantiles and min/max do not add up (a site's quantile runs depend on its own counts) and are refused under
/// secure aggregation; ask for a fine histogram instead.
public enum AdditiveStatistics {
    /// The length of the vector every site sends for a plan.
    public static func length(of plan: QueryPlan) throws(AnalyticsError) -> Int {
        try Self.check(plan)
        var perGroup = 2
        for c in plan.columns {
            perGroup += 3
            if plan.wantsMoments && c.kind != .categorical { perGroup += 3 }
            if let h = c.histogram { perGroup += 2 * h.cellCount }
            if c.kind != .numeric { perGroup += 2 * c.levels.count }
        }
        let d = plan.covarianceColumns.count
        if d > 0 { perGroup += 2 + d + d * (d + 1) / 2 }
        return perGroup * plan.groupKeys.count
    }

    /// Refuses plans whose statistics do not add up.
    public static func check(_ plan: QueryPlan) throws(AnalyticsError) {
        let unsupported = plan.query.statistics.filter { $0 == .quantiles || $0.isDisclosive }
        guard unsupported.isEmpty else {
            throw AnalyticsError(.invalidQuery, "\(unsupported.map(\.name).joined(separator: ", ")) cannot be computed under secure aggregation (they are not sums); drop them or ask for a fine histogram instead")
        }
    }

    /// The centre of a column's moment sums.
    static func centre(_ c: QueryPlan.Column) -> Double {
        guard let b = c.bounds, b.count == 2 else { return 0 }
        return (b[0] + b[1]) / 2
    }

    /// A site's released statistics as the vector secure aggregation adds up.
    public static func encode(_ s: SiteStatistics, plan: QueryPlan) throws(AnalyticsError) -> [Double] {
        guard s.planDigest == plan.digest, s.groups.count == plan.groupKeys.count else {
            throw AnalyticsError(.planMismatch, "site '\(s.site)' answered a different plan; encode the answer to the plan it was asked")
        }
        var v = [Double]()
        v.reserveCapacity(try Self.length(of: plan))
        func put(_ x: Double?) {
            v.append(x ?? 0)
            v.append(x == nil ? 1 : 0)
        }
        for g in s.groups {
            put(g.rows.value)
            for (pc, c) in zip(plan.columns, g.columns) {
                let withheld = c.suppression != nil
                v += [withheld ? 1 : 0, c.count ?? 0, c.missing ?? 0]
                if plan.wantsMoments && pc.kind != .categorical {
                    if let m = c.moments {
                        let d = m.mean - Self.centre(pc)
                        v += [m.count, m.count * d, max(0, m.m2) + m.count * d * d]
                    } else {
                        v += [0, 0, 0]
                    }
                }
                if let h = pc.histogram {
                    for i in 0..<h.cellCount { put(withheld ? nil : c.histogram?[i].value) }
                }
                if pc.kind != .numeric {
                    for i in pc.levels.indices { put(withheld ? nil : c.levels?[i].value) }
                }
            }
            let d = plan.covarianceColumns.count
            if d > 0 {
                let centres = plan.covarianceColumns.map { name in Self.centre(plan.columns.first { $0.name == name }!) }
                if let m = g.covariance?.moments, g.covariance?.suppression == nil {
                    v += [0, m.count]
                    let dm = (0..<d).map { m.means[$0] - centres[$0] }
                    v += dm.map { m.count * $0 }
                    var k = 0
                    for i in 0..<d {
                        for j in i..<d {
                            v.append(m.comoments[k] + m.count * dm[i] * dm[j])
                            k += 1
                        }
                    }
                } else {
                    v += [1, 0] + [Double](repeating: 0, count: d + d * (d + 1) / 2)
                }
            }
        }
        return v
    }

    /// The federation's statistics from the sum of every site's vector.
    ///
    /// - Parameter sites: How many sites' vectors were added (withheld values are reported as withheld by "N of
    ///   M sites": under secure aggregation nobody learns which).
    public static func decode(_ total: [Double], plan: QueryPlan, sites: Int) throws(AnalyticsError) -> MergedStatistics {
        let expected = try Self.length(of: plan)
        guard total.count == expected else {
            throw AnalyticsError(.planMismatch, "the aggregate has \(total.count) values but the plan needs \(expected); every site must encode the same plan")
        }
        var i = 0
        func next() -> Double {
            defer { i += 1 }
            return total[i]
        }
        func withheld(_ n: Double) -> [String] {
            let count = Int(n.rounded())
            return count > 0 ? ["\(count) of \(sites) sites"] : []
        }
        var groups = [MergedGroup]()
        for key in plan.groupKeys {
            let rows = next(), rowsWithheld = next()
            var columns = [MergedColumn]()
            for pc in plan.columns {
                let columnWithheld = next()
                var c = MergedColumn(column: pc.name, count: next(), excludedSites: withheld(columnWithheld))
                let missing = next()
                if plan.wants(.missing) { c.missing = missing }
                if plan.wantsMoments && pc.kind != .categorical {
                    let n = next(), s1 = next(), s2 = next()
                    if n > 0 {
                        let m = Moments(count: n, mean: Self.centre(pc) + s1 / n, m2: max(0, s2 - s1 * s1 / n), sum: Self.centre(pc) * n + s1)
                        c.moments = m
                        c.sum = m.total
                        c.mean = m.mean
                        c.variance = m.variance
                        c.standardDeviation = m.standardDeviation
                    }
                }
                func cells(_ n: Int) -> MergedCells {
                    var m = MergedCells(counts: [], withheldAt: [])
                    for _ in 0..<n {
                        m.counts.append(next())
                        m.withheldAt.append(withheld(next()))
                    }
                    return m
                }
                // As in FederatedMerge: no cells unless some site released values of the column.
                let released = c.count != 0
                if let h = pc.histogram {
                    let m = cells(h.cellCount)
                    if released { c.histogram = m }
                }
                if pc.kind != .numeric {
                    let m = cells(pc.levels.count)
                    if released { c.levels = m }
                }
                columns.append(c)
            }
            var cov: MergedCovariance?
            let d = plan.covarianceColumns.count
            if d > 0 {
                let covWithheld = next(), n = next()
                let centres = plan.covarianceColumns.map { name in Self.centre(plan.columns.first { $0.name == name }!) }
                let s1 = (0..<d).map { _ in next() }
                var m = CoMoments.empty(dimension: d)
                m.count = n
                var k = 0
                for a in 0..<d {
                    for b in a..<d {
                        m.comoments[k] = next() - (n > 0 ? s1[a] * s1[b] / n : 0)
                        k += 1
                    }
                }
                if n > 0 { m.means = (0..<d).map { centres[$0] + s1[$0] / n } }
                cov = FederatedMerge.mergeCovariance([("aggregate", CovarianceSummary(columns: plan.covarianceColumns, suppression: nil, moments: m))],
                                                     columns: plan.covarianceColumns)
                cov?.excludedSites = withheld(covWithheld)
            }
            groups.append(MergedGroup(key: key, rows: rows, excludedSites: withheld(rowsWithheld), columns: columns, covariance: cov))
        }
        return MergedStatistics(planDigest: plan.digest, sites: ["\(sites) sites (secure aggregation)"], groups: groups)
    }
}
