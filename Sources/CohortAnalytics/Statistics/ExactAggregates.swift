import CohortData

/// Exact partial aggregates of one group at one site, before disclosure control. Never leaves the site.
struct ExactGroup {
    var key: String
    var rows: Int
    var columns: [ExactColumn]
    /// Complete cases of the covariance columns.
    var covariance: CoMoments?

    /// Adds the same group's aggregates over other rows.
    mutating func merge(_ o: ExactGroup) {
        self.rows += o.rows
        for i in self.columns.indices { self.columns[i].merge(o.columns[i]) }
        if let c = o.covariance { self.covariance?.merge(c) }
    }
}

/// Exact aggregates of one column in one group.
struct ExactColumn {
    var count = 0
    var missing = 0
    var moments = Moments.empty
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var histogram: [Int] = []
    var fine: [Int] = []
    var levels: [Int] = []

    mutating func merge(_ o: ExactColumn) {
        self.count += o.count
        self.missing += o.missing
        self.moments.merge(o.moments)
        self.minimum = min(self.minimum, o.minimum)
        self.maximum = max(self.maximum, o.maximum)
        for i in self.histogram.indices { self.histogram[i] += o.histogram[i] }
        for i in self.fine.indices { self.fine[i] += o.fine[i] }
        for i in self.levels.indices { self.levels[i] += o.levels[i] }
    }
}

/// Computes a site's exact aggregates for a plan in one streaming pass over each column's selected rows.
///
/// Rows are selected by the filter and bucketed by group once; each column is then read in blocks of
/// ``blockSize`` values that stay in cache while moments, bins and extremes are updated.
enum SiteStatisticsEngine {
    static let blockSize = 2048

    /// The schema positions of the plan's columns in a table, or the name of a column the table lacks.
    static func positions(_ plan: QueryPlan, in schema: DatasetSchema) -> Result<[Int], QueryRefusal> {
        var out = [Int]()
        for c in plan.columns {
            guard let i = schema.columns.firstIndex(where: { $0.name == c.name }) else {
                return .failure(QueryRefusal(.invalidPlan, "this site's data has no column '\(c.name)'; check the job's schema"))
            }
            out.append(i)
        }
        return .success(out)
    }

    /// Exact aggregates of every group over the rows of several tables with the same schema.
    static func compute(_ plan: QueryPlan, tables: [Table], positions: [Int]) -> [ExactGroup] {
        var total = Self.compute(plan, table: tables[0], positions: positions)
        for t in tables.dropFirst() {
            for (i, g) in Self.compute(plan, table: t, positions: positions).enumerated() { total[i].merge(g) }
        }
        return total
    }

    /// Exact aggregates of every group.
    static func compute(_ plan: QueryPlan, table: Table, positions: [Int]) -> [ExactGroup] {
        let groupRows = Self.rowsByGroup(plan, table)
        return zip(plan.groupKeys, groupRows).map { key, rows in
            var columns = [ExactColumn]()
            for (pc, pos) in zip(plan.columns, positions) {
                switch table.columns[pos] {
                case .numeric(let values): columns.append(Self.numeric(values, rows: rows, column: pc))
                case .categorical(let values): columns.append(Self.categorical(values, rows: rows, column: pc))
                case .text: columns.append(ExactColumn())
                }
            }
            var cov: CoMoments?
            if !plan.covarianceColumns.isEmpty {
                let arrays: [[Double]] = plan.covarianceColumns.map { name in
                    if case .numeric(let v)? = table.values(of: name) { return v }
                    return []
                }
                cov = Self.coMoments(arrays, rows: rows)
            }
            return ExactGroup(key: key, rows: rows.count, columns: columns, covariance: cov)
        }
    }

    /// Row indices of each group, in row order, after the filter.
    static func rowsByGroup(_ plan: QueryPlan, _ table: Table) -> [[Int32]] {
        let mask = plan.query.filter?.matches(table)
        let n = table.rowCount
        guard let groups = plan.groups, let by = plan.query.groupBy, case .categorical(let g)? = table.values(of: by) else {
            var rows = [Int32]()
            rows.reserveCapacity(n)
            for i in 0..<n where mask?[i] ?? true { rows.append(Int32(i)) }
            return [rows]
        }
        var out = [[Int32]](repeating: [], count: groups.count)
        let missingGroup = groups.count - 1
        for i in 0..<n where mask?[i] ?? true {
            let level = Int(g[i])
            out[level >= 0 && level < missingGroup ? level : missingGroup].append(Int32(i))
        }
        return out
    }

    static func numeric(_ values: [Double], rows: [Int32], column: QueryPlan.Column) -> ExactColumn {
        var out = ExactColumn()
        let hist = column.histogram, fineGrid = column.quantileGrid
        if let h = hist { out.histogram = [Int](repeating: 0, count: h.cellCount) }
        if let f = fineGrid { out.fine = [Int](repeating: 0, count: f.cellCount) }
        var block = [Double](repeating: 0, count: Self.blockSize)
        values.withUnsafeBufferPointer { v in
            rows.withUnsafeBufferPointer { r in
                block.withUnsafeMutableBufferPointer { b in
                    var start = 0
                    while start < r.count {
                        let end = min(start + Self.blockSize, r.count)
                        var m = 0
                        for i in start..<end {
                            let x = v[Int(r[i])]
                            if x.isNaN { continue }
                            b[m] = x
                            m += 1
                        }
                        out.missing += (end - start) - m
                        start = end
                        guard m > 0 else { continue }
                        let bp = UnsafeBufferPointer(rebasing: b[0..<m])
                        out.moments.merge(Moments.of(bp))
                        var lo = out.minimum, hi = out.maximum
                        for x in bp {
                            lo = min(lo, x)
                            hi = max(hi, x)
                        }
                        out.minimum = lo
                        out.maximum = hi
                        if let h = hist {
                            out.histogram.withUnsafeMutableBufferPointer { c in for x in bp { c[h.cell(of: x)] += 1 } }
                        }
                        if let f = fineGrid {
                            out.fine.withUnsafeMutableBufferPointer { c in for x in bp { c[f.cell(of: x)] += 1 } }
                        }
                    }
                }
            }
        }
        out.count = Int(out.moments.count)
        return out
    }

    static func categorical(_ values: [Int32], rows: [Int32], column: QueryPlan.Column) -> ExactColumn {
        var out = ExactColumn()
        out.levels = [Int](repeating: 0, count: column.levels.count)
        for i in rows {
            let l = Int(values[Int(i)])
            if l >= 0 && l < out.levels.count { out.levels[l] += 1 } else { out.missing += 1 }
        }
        out.count = out.levels.reduce(0, +)
        if column.kind == .binary && out.levels.count == 2 {
            out.moments = Moments.binary(ones: out.levels[1], count: out.count)
            if out.count > 0 {
                out.minimum = out.levels[0] > 0 ? 0 : 1
                out.maximum = out.levels[1] > 0 ? 1 : 0
            }
        }
        return out
    }

    /// Co-moments over rows where every column is present.
    static func coMoments(_ columns: [[Double]], rows: [Int32]) -> CoMoments {
        let d = columns.count
        var total = CoMoments.empty(dimension: d)
        let blockRows = max(1, Self.blockSize / max(1, d))
        var block = [Double](repeating: 0, count: blockRows * d)
        block.withUnsafeMutableBufferPointer { b in
            var m = 0
            for r in rows {
                let i = Int(r)
                var complete = true
                for j in 0..<d where columns[j][i].isNaN {
                    complete = false
                    break
                }
                guard complete else { continue }
                for j in 0..<d { b[m * d + j] = columns[j][i] }
                m += 1
                if m == blockRows {
                    total.merge(CoMoments.of(b, rows: m, dimension: d))
                    m = 0
                }
            }
            if m > 0 { total.merge(CoMoments.of(b, rows: m, dimension: d)) }
        }
        return total
    }
}
