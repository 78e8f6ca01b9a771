import CohortData

/// Combines site partials into the federation's statistics, on the coordinator.
///
/// Partials are merged in site-name order (natural order, as the federation loader lists sites), so the result
/// is the same to the bit however answers arrive. Counts and histogram cells are sums; moments and co-moments
/// use the pairwise updates of ``Moments`` and ``CoMoments``; quantiles are estimated from every site's fine
/// runs together (``QuantileEstimate``).
public enum FederatedMerge {
    /// Merges partials that answer `plan`.
    public static func merge(_ partials: [SiteStatistics], plan: QueryPlan) throws(AnalyticsError) -> MergedStatistics {
        let digest = plan.digest
        for p in partials where p.planDigest != digest {
            throw AnalyticsError(.planMismatch, "site '\(p.site)' answered a different plan (digest \(p.planDigest.prefix(12))..., expected \(digest.prefix(12))...); send every site the same plan")
        }
        let sites = partials.sorted { NaturalOrder.less($0.site, $1.site) }
        var groups = [MergedGroup]()
        for key in plan.groupKeys {
            let parts = sites.compactMap { s in s.group(key).map { (s.site, $0) } }
            var rows = 0.0
            var excluded = [String]()
            for (site, g) in parts {
                if let v = g.rows.value { rows += v } else { excluded.append(site) }
            }
            let columns = plan.columns.enumerated().map { ci, pc in
                Self.merge(parts.map { ($0.0, $0.1.columns[ci]) }, column: pc, plan: plan)
            }
            var cov: MergedCovariance?
            if !plan.covarianceColumns.isEmpty {
                cov = Self.mergeCovariance(parts.compactMap { p in p.1.covariance.map { (p.0, $0) } }, columns: plan.covarianceColumns)
            }
            groups.append(MergedGroup(key: key, rows: rows, excludedSites: excluded, columns: columns, covariance: cov))
        }
        return MergedStatistics(planDigest: digest, sites: sites.map(\.site), groups: groups)
    }

    static func merge(_ parts: [(String, ColumnSummary)], column pc: QueryPlan.Column, plan: QueryPlan) -> MergedColumn {
        var out = MergedColumn(column: pc.name, count: 0, excludedSites: [])
        var moments: Moments?
        var missing: Double?
        var runs = [[QuantileRun]]()
        for (site, s) in parts {
            guard s.suppression == nil else {
                out.excludedSites.append(site)
                continue
            }
            out.count += s.count ?? 0
            if let m = s.missing { missing = (missing ?? 0) + m }
            if let m = s.moments {
                if moments == nil { moments = m } else { moments!.merge(m) }
            }
            if let v = s.minimum { out.minimum = min(out.minimum ?? v, v) }
            if let v = s.maximum { out.maximum = max(out.maximum ?? v, v) }
            if let h = s.histogram { out.histogram = Self.add(out.histogram, h, site: site) }
            if let l = s.levels { out.levels = Self.add(out.levels, l, site: site) }
            if let r = s.quantileRuns { runs.append(r) }
        }
        out.missing = missing
        if let m = moments {
            out.moments = m
            out.sum = m.total
            out.mean = m.count > 0 ? m.mean : nil
            out.variance = m.variance
            out.standardDeviation = m.standardDeviation
        }
        if let grid = pc.quantileGrid, !runs.isEmpty {
            out.quantiles = QuantileEstimation.estimate(
                runs: runs, grid: grid, probabilities: plan.query.quantiles.probabilities, exactCounts: plan.query.privacy == nil)
        }
        return out
    }

    static func add(_ merged: MergedCells?, _ cells: [ReleasedCount], site: String) -> MergedCells {
        var m = merged ?? MergedCells(counts: [Double](repeating: 0, count: cells.count), withheldAt: Array(repeating: [], count: cells.count))
        for (i, c) in cells.enumerated() where i < m.counts.count {
            if let v = c.value { m.counts[i] += v } else { m.withheldAt[i].append(site) }
        }
        return m
    }

    static func mergeCovariance(_ parts: [(String, CovarianceSummary)], columns: [String]) -> MergedCovariance {
        var total = CoMoments.empty(dimension: columns.count)
        var excluded = [String]()
        for (site, c) in parts {
            if let m = c.moments, c.suppression == nil { total.merge(m) } else { excluded.append(site) }
        }
        let d = columns.count
        return MergedCovariance(
            columns: columns, count: total.count, excludedSites: excluded, means: total.means,
            covariance: (0..<d).map { i in (0..<d).map { j in total.covariance(i, j) } },
            correlation: (0..<d).map { i in (0..<d).map { j in i == j ? (total.correlation(i, i) != nil ? 1 : nil) : total.correlation(i, j) } })
    }
}
