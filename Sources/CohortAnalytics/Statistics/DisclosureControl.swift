/// Disclosure control applied at the site, before anything leaves: the minimum cell count k, complementary
/// suppression, and the k-record runs of quantile bins.
///
/// Rules (exact releases; see ``PrivateRelease`` for releases with noise):
/// - A group with 1 to k - 1 rows is withheld entirely.
/// - A column with 1 to k - 1 non-missing values is withheld. So is a column with 1 to k - 1 missing values:
///   the missing count equals the group's row count minus the column's count, so it cannot be hidden alone
///   (complementary suppression of the column).
/// - Histogram bins and category counts form an additive family whose total (the column's count) is released.
///   Bins with 1 to k - 1 records are withheld; then, while fewer than two cells are withheld or the withheld
///   cells hold fewer than k records together, the smallest released non-zero cell is withheld too (ties: the
///   first). No withheld cell can then be recovered by subtraction, and their sum is at least k.
/// - A binary column's mean and sum are its count of ones, so they are withheld when a level count is.
/// - Covariance is withheld when fewer than k rows are complete, when 1 to k - 1 rows are incomplete (recoverable
///   from the row count), or when a column's count differs from the complete-case count by 1 to k - 1 (its
///   released moments minus the complete-case ones would expose those rows).
/// - Quantile bins are released as runs of adjacent fine cells holding at least k records each (every fine cell
///   on its own when k = 1).
/// - Zero counts are released: they describe no record.
///
/// These rules protect the cells of one release. Differences between releases (a filtered and an unfiltered
/// query, two overlapping groupings) are not controlled by k; that is what differential privacy noise and the
/// privacy ledger are for.
public enum DisclosureControl {
    /// Releases exact aggregates under the minimum cell count `k`.
    static func release(_ groups: [ExactGroup], plan: QueryPlan, k: Int) -> [GroupStatistics] {
        groups.map { Self.release($0, plan: plan, k: k) }
    }

    static func below(_ k: Int, _ what: String) -> Suppression {
        Suppression(.belowMinimum, "\(what) fewer than \(k) records")
    }

    static func release(_ g: ExactGroup, plan: QueryPlan, k: Int) -> GroupStatistics {
        if g.rows > 0 && g.rows < k {
            let enclosing = Suppression(.enclosing, "the group is withheld")
            return GroupStatistics(
                key: g.key, rows: ReleasedCount(suppressed: Self.below(k, "the group has")),
                columns: plan.columns.map { ColumnSummary(column: $0.name, suppressed: enclosing) },
                covariance: plan.covarianceColumns.isEmpty ? nil : CovarianceSummary(columns: plan.covarianceColumns, suppression: enclosing, moments: nil))
        }
        let columns = zip(plan.columns, g.columns).map { pc, e in Self.release(e, column: pc, plan: plan, k: k) }
        var cov: CovarianceSummary?
        if let cm = g.covariance {
            cov = CovarianceSummary(columns: plan.covarianceColumns, suppression: nil, moments: cm)
            let complete = Int(cm.count)
            if complete > 0 && complete < k {
                cov?.suppression = Self.below(k, "complete cases are")
            } else if g.rows - complete > 0 && g.rows - complete < k {
                cov?.suppression = Suppression(.complementary, "fewer than \(k) rows are incomplete, which the row count would reveal")
            } else {
                for (name, e) in zip(plan.columns.map(\.name), g.columns) where plan.covarianceColumns.contains(name) {
                    let d = e.count - complete
                    if d > 0 && d < k {
                        cov?.suppression = Suppression(.complementary, "'\(name)' has fewer than \(k) values outside the complete cases; its own statistics would expose them")
                        break
                    }
                }
            }
            if cov?.suppression != nil { cov?.moments = nil }
        }
        return GroupStatistics(key: g.key, rows: ReleasedCount(value: Double(g.rows)), columns: columns, covariance: cov)
    }

    static func release(_ e: ExactColumn, column pc: QueryPlan.Column, plan: QueryPlan, k: Int) -> ColumnSummary {
        if e.count > 0 && e.count < k {
            return ColumnSummary(column: pc.name, suppressed: Self.below(k, "the column has"))
        }
        if e.missing > 0 && e.missing < k {
            return ColumnSummary(column: pc.name, suppressed: Suppression(
                .complementary, "fewer than \(k) values are missing, which the column's count would reveal"))
        }
        var s = ColumnSummary(column: pc.name)
        s.count = Double(e.count)
        if plan.wants(.missing) { s.missing = Double(e.missing) }
        guard e.count > 0 else { return s }
        let minMax = plan.wants(.minimum) || plan.wants(.maximum)
        switch pc.kind {
        case .numeric:
            if plan.wantsMoments { s.moments = e.moments }
            if minMax {
                if plan.wants(.minimum) { s.minimum = e.minimum }
                if plan.wants(.maximum) { s.maximum = e.maximum }
            }
            if pc.histogram != nil { s.histogram = Self.family(e.histogram, k: k) }
            if pc.quantileGrid != nil { s.quantileRuns = Self.runs(e.fine.map(Double.init), k: k) }
        case .binary, .categorical:
            let levels = Self.family(e.levels, k: k)
            s.levels = levels
            if pc.kind == .binary && !levels.contains(where: \.isSuppressed) {
                if plan.wantsMoments { s.moments = e.moments }
                if plan.wants(.minimum) { s.minimum = e.minimum }
                if plan.wants(.maximum) { s.maximum = e.maximum }
            }
        }
        return s
    }

    /// Primary and complementary suppression of an additive family of counts whose total is released.
    public static func family(_ counts: [Int], k: Int) -> [ReleasedCount] {
        var out = counts.map { ReleasedCount(value: Double($0)) }
        guard k > 1 else { return out }
        var withheld = 0, total = 0
        for (i, c) in counts.enumerated() where c > 0 && c < k {
            out[i] = ReleasedCount(suppressed: Self.below(k, "the cell has"))
            withheld += 1
            total += c
        }
        guard withheld > 0 else { return out }
        while withheld < 2 || total < k {
            var pick: Int?
            for i in counts.indices where !out[i].isSuppressed && counts[i] > 0 {
                if pick == nil || counts[i] < counts[pick!] { pick = i }
            }
            guard let j = pick else { break }
            out[j] = ReleasedCount(suppressed: Suppression(
                .complementary, "withheld so that the other withheld cells cannot be recovered from the total"))
            withheld += 1
            total += counts[j]
        }
        return out
    }

    /// Runs of adjacent cells that each hold at least `k` records (the last run absorbs any remainder); with
    /// k <= 1 every cell is its own run.
    ///
    /// An empty underflow or overflow cell (the first and last cell) is released as a zero run of its own, so
    /// that quantiles near the ends of the grid keep a finite bound; that says only that no value lies outside
    /// the grid, which a declared range guarantees anyway.
    public static func runs(_ counts: [Double], k: Int) -> [QuantileRun] {
        if k <= 1 { return counts.enumerated().map { QuantileRun(end: $0.offset + 1, count: $0.element) } }
        var runs = [QuantileRun]()
        var body = counts.indices
        if counts.count > 2 && counts[0] == 0 {
            runs.append(QuantileRun(end: 1, count: 0))
            body = 1..<counts.count
        }
        let emptyOverflow = counts.count > 2 && counts[counts.count - 1] == 0
        if emptyOverflow { body = body.lowerBound..<(counts.count - 1) }
        let opening = runs.count
        var acc = 0.0
        for i in body {
            let c = counts[i]
            acc += c
            if acc >= Double(k) {
                runs.append(QuantileRun(end: i + 1, count: acc))
                acc = 0
            }
        }
        if runs.count == opening {
            runs.append(QuantileRun(end: body.upperBound, count: acc))
        } else {
            runs[runs.count - 1].end = body.upperBound
            runs[runs.count - 1].count += acc
        }
        if emptyOverflow { runs.append(QuantileRun(end: counts.count, count: 0)) }
        return runs
    }
}
