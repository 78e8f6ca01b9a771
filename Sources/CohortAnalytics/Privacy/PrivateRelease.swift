import CohortPrivacy

/// Releases a site's aggregates with differential privacy noise.
///
/// Each release below is one mechanism with its own sensitivity (add/remove one record, values clipped to the
/// schema's declared `range [lo, hi]`, which `TableLoader` enforces; `mid = (lo + hi) / 2`, `h = (hi - lo) / 2`):
///
/// | release | L1 sensitivity | L2 sensitivity |
/// |---|---|---|
/// | rows of a group, a column's count, missing count | 1 | 1 |
/// | `Σ (x - mid)` of a column | h | h |
/// | `Σ (x - mid)²` of a column | h² | h² |
/// | histogram, fine quantile bins, level counts (one record changes one cell) | 1 | 1 |
/// | covariance: complete-case count | 1 | 1 |
/// | covariance: vector `Σ (x_i - mid_i)` | Σ h_i | √Σ h_i² |
/// | covariance: cross products `Σ (x_i - mid_i)(x_j - mid_j)`, i <= j | Σ h_i h_j | √Σ (h_i h_j)² |
///
/// The query's ε (and δ) is split evenly over the releases; mean, variance, standard deviation, sums, quantiles
/// and correlations are computed from the noisy releases (post-processing). Suppression then compares the noisy
/// values with k, so it is post-processing too and the whole release is (ε, δ)-DP; complementary suppression is
/// unnecessary, since recovering a withheld noisy cell yields only a noisy value.
enum PrivateRelease {
    struct Mechanism {
        var statistic: String
        var column: String?
        var l1: Double
        var l2: Double
    }

    /// The mechanisms a plan releases in each group, in draw order.
    static func mechanisms(_ plan: QueryPlan) -> [Mechanism] {
        var out = [Mechanism(statistic: "rows", column: nil, l1: 1, l2: 1)]
        for c in plan.columns {
            switch c.kind {
            case .numeric:
                out.append(Mechanism(statistic: "count", column: c.name, l1: 1, l2: 1))
                if plan.wants(.missing) { out.append(Mechanism(statistic: "missing", column: c.name, l1: 1, l2: 1)) }
                if plan.wantsMoments {
                    let h = Self.halfWidth(c)
                    out.append(Mechanism(statistic: "sum of (x - mid)", column: c.name, l1: h, l2: h))
                    out.append(Mechanism(statistic: "sum of (x - mid)^2", column: c.name, l1: h * h, l2: h * h))
                }
                if c.histogram != nil { out.append(Mechanism(statistic: "histogram", column: c.name, l1: 1, l2: 1)) }
                if c.quantileGrid != nil { out.append(Mechanism(statistic: "quantile bins", column: c.name, l1: 1, l2: 1)) }
            case .binary, .categorical:
                out.append(Mechanism(statistic: "level counts", column: c.name, l1: 1, l2: 1))
                if plan.wants(.missing) { out.append(Mechanism(statistic: "missing", column: c.name, l1: 1, l2: 1)) }
            }
        }
        if !plan.covarianceColumns.isEmpty {
            let h = plan.covarianceColumns.map { name in Self.halfWidth(plan.columns.first { $0.name == name }!) }
            var l1 = 0.0, l2 = 0.0
            for i in h.indices { for j in i..<h.count { l1 += h[i] * h[j]; l2 += (h[i] * h[j]) * (h[i] * h[j]) } }
            out.append(Mechanism(statistic: "complete cases", column: nil, l1: 1, l2: 1))
            out.append(Mechanism(statistic: "covariance sums of (x - mid)", column: nil, l1: h.reduce(0, +), l2: h.map { $0 * $0 }.reduce(0, +).squareRoot()))
            out.append(Mechanism(statistic: "covariance cross products", column: nil, l1: l1, l2: l2.squareRoot()))
        }
        return out
    }

    static func halfWidth(_ c: QueryPlan.Column) -> Double {
        guard let b = c.bounds, b.count == 2 else { return 0.5 }
        return (b[1] - b[0]) / 2
    }

    static func mid(_ c: QueryPlan.Column) -> Double {
        guard let b = c.bounds, b.count == 2 else { return 0.5 }
        return (b[0] + b[1]) / 2
    }

    /// Releases every group with noise. The plan must have passed ``SiteAnalyticsPolicy/refusal(of:budget:)``.
    static func release(
        _ groups: [ExactGroup], plan: QueryPlan, k: Int, request: PrivacyRequest, noise: inout some NoiseSource
    ) -> ([GroupStatistics], PrivacyAccounting) {
        let specs = Self.mechanisms(plan)
        let m = Double(specs.count)
        let eps = request.epsilon / m
        let delta = (request.delta ?? 0) / m
        let releases = specs.map { s -> NoiseRelease in
            switch request.mechanism {
            case .laplace:
                NoiseRelease(statistic: s.statistic, column: s.column, norm: "L1", sensitivity: s.l1,
                             scale: s.l1 / eps, epsilon: eps, delta: 0)
            case .gaussian:
                NoiseRelease(statistic: s.statistic, column: s.column, norm: "L2", sensitivity: s.l2,
                             scale: NoiseCalibration.gaussianSigma(sensitivity: s.l2, epsilon: eps, delta: delta), epsilon: eps, delta: delta)
            }
        }
        var scales = releases.map(\.scale)[...]
        func next() -> Double { scales.popFirst()! }
        func draw(_ scale: Double) -> Double {
            request.mechanism == .laplace
                ? LaplaceMechanism(scale: scale).sample(using: &noise)
                : GaussianMechanism(standardDeviation: scale).noised(0, using: &noise)
        }
        let kd = Double(k)
        let noisyBelow = Suppression(.belowMinimum, "the noisy count is below \(k)")
        var out = [GroupStatistics]()
        for g in groups {
            scales = releases.map(\.scale)[...]
            let rows = Double(g.rows) + draw(next())
            guard rows >= kd else {
                let enclosing = Suppression(.enclosing, "the group is withheld")
                out.append(GroupStatistics(
                    key: g.key, rows: ReleasedCount(suppressed: noisyBelow),
                    columns: plan.columns.map { ColumnSummary(column: $0.name, suppressed: enclosing) },
                    covariance: plan.covarianceColumns.isEmpty ? nil : CovarianceSummary(columns: plan.covarianceColumns, suppression: enclosing, moments: nil)))
                continue
            }
            var columns = [ColumnSummary]()
            for (pc, e) in zip(plan.columns, g.columns) {
                var s = ColumnSummary(column: pc.name)
                func cells(_ counts: [Int], _ scale: Double) -> [Double] { counts.map { Double($0) + draw(scale) } }
                func thresholded(_ v: [Double]) -> [ReleasedCount] {
                    v.map { $0 >= kd ? ReleasedCount(value: $0) : ReleasedCount(suppressed: noisyBelow) }
                }
                switch pc.kind {
                case .numeric:
                    let count = Double(e.count) + draw(next())
                    let missing = plan.wants(.missing) ? Double(e.missing) + draw(next()) : nil
                    var moments: Moments?
                    if plan.wantsMoments {
                        let mid = Self.mid(pc)
                        let c = Double(e.count), dm = e.moments.mean - mid
                        let s1 = c * dm + draw(next())
                        let s2 = e.moments.m2 + c * dm * dm + draw(next())
                        moments = Moments(count: count, mean: mid + s1 / count, m2: s2 - s1 * s1 / count, sum: mid * count + s1)
                    }
                    let hist = pc.histogram != nil ? cells(e.histogram, next()) : nil
                    let fine = pc.quantileGrid != nil ? cells(e.fine, next()) : nil
                    guard count >= kd else {
                        columns.append(ColumnSummary(column: pc.name, suppressed: noisyBelow))
                        continue
                    }
                    s.count = count
                    s.missing = missing
                    s.moments = moments
                    s.histogram = hist.map(thresholded)
                    s.quantileRuns = fine.map { DisclosureControl.runs($0, k: k) }
                case .binary, .categorical:
                    let levels = cells(e.levels, next())
                    let missing = plan.wants(.missing) ? Double(e.missing) + draw(next()) : nil
                    let count = levels.reduce(0, +)
                    guard count >= kd else {
                        columns.append(ColumnSummary(column: pc.name, suppressed: noisyBelow))
                        continue
                    }
                    s.count = count
                    s.missing = missing
                    s.levels = thresholded(levels)
                    if pc.kind == .binary && plan.wantsMoments && levels.allSatisfy({ $0 >= kd }) {
                        s.moments = Moments(count: count, mean: levels[1] / count, m2: levels[0] * levels[1] / count, sum: levels[1])
                    }
                }
                columns.append(s)
            }
            var cov: CovarianceSummary?
            if let cm = g.covariance {
                let cols = plan.covarianceColumns.map { name in plan.columns.first { $0.name == name }! }
                let mids = cols.map(Self.mid)
                let n = cm.count + draw(next())
                let s1Scale = next(), pScale = next()
                let d = cols.count
                let dm = (0..<d).map { cm.means[$0] - mids[$0] }
                let s1 = (0..<d).map { cm.count * dm[$0] + draw(s1Scale) }
                var p = cm.comoments
                var k2 = 0
                for i in 0..<d {
                    for j in i..<d {
                        p[k2] += cm.count * dm[i] * dm[j] + draw(pScale)
                        k2 += 1
                    }
                }
                if n >= kd {
                    var c = p
                    k2 = 0
                    for i in 0..<d {
                        for j in i..<d {
                            c[k2] = p[k2] - s1[i] * s1[j] / n
                            k2 += 1
                        }
                    }
                    cov = CovarianceSummary(columns: plan.covarianceColumns, suppression: nil, moments: CoMoments(
                        count: n, means: (0..<d).map { mids[$0] + s1[$0] / n }, comoments: c))
                } else {
                    cov = CovarianceSummary(columns: plan.covarianceColumns, suppression: noisyBelow, moments: nil)
                }
            }
            out.append(GroupStatistics(key: g.key, rows: ReleasedCount(value: rows), columns: columns, covariance: cov))
        }
        return (out, PrivacyAccounting(mechanism: request.mechanism, epsilon: request.epsilon, delta: request.delta ?? 0, releases: releases))
    }
}
