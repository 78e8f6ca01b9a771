public import CohortData

/// Resolves a ``StatisticsQuery`` against the job's schema into the ``QueryPlan`` every site answers.
///
/// Histogram and quantile bins must be the same at every site. They come from the query's `histogram.ranges`,
/// else the schema's `range`, else a preliminary round: ``preliminaryQuery(for:schema:)`` asks for the count,
/// mean and standard deviation, and the bins then cover the federation's mean ± 4 SD (with round edges; values
/// outside land in the underflow and overflow cells). Queries with noise need declared ranges instead.
public enum QueryPlanner {
    /// The plan for a query.
    ///
    /// - Parameter preliminary: Merged results of ``preliminaryQuery(for:schema:)``, when that returned a query.
    public static func plan(
        _ query: StatisticsQuery, schema: DatasetSchema, preliminary: MergedStatistics? = nil
    ) throws(AnalyticsError) -> QueryPlan {
        try query.validate()
        let names = try Self.columns(query, schema)
        var columns = [QueryPlan.Column]()
        let wantsHistogram = query.statistics.contains(.histogram)
        let wantsQuantiles = query.statistics.contains(.quantiles)
        for name in names {
            let spec = schema.column(named: name)!
            switch spec.type {
            case .numeric:
                var c = QueryPlan.Column(name: name, kind: .numeric, levels: [], histogram: nil, quantileGrid: nil, bounds: spec.range)
                if wantsHistogram || wantsQuantiles {
                    let (lo, hi) = try Self.range(of: name, query: query, spec: spec, preliminary: preliminary)
                    if wantsHistogram {
                        c.histogram = query.histogram.ranges[name] != nil || spec.range != nil
                            ? BinGrid(lower: lo, upper: hi, bins: query.histogram.bins)
                            : BinGrid.covering(lo, hi, bins: query.histogram.bins)
                    }
                    if wantsQuantiles { c.quantileGrid = BinGrid(lower: lo, upper: hi, bins: query.quantiles.resolution) }
                }
                columns.append(c)
            case .binary, .categorical:
                columns.append(QueryPlan.Column(name: name, kind: spec.type == .binary ? .binary : .categorical,
                                                levels: spec.levels, histogram: nil, quantileGrid: nil, bounds: nil))
            }
        }
        var groups: [String]?
        if let by = query.groupBy {
            guard let spec = schema.column(named: by) else {
                throw AnalyticsError(.unknownColumn, "group_by: the schema has no column '\(by)'; columns: \(schema.columns.map(\.name).joined(separator: ", "))")
            }
            guard spec.type != .numeric, spec.role != .id, spec.role != .ignore else {
                throw AnalyticsError(.invalidQuery, "group_by: '\(by)' is not categorical or binary; group by a column with declared categories")
            }
            groups = spec.levels + [QueryPlan.missingGroup]
        }
        try query.filter?.validate(against: schema)
        var covariance = [String]()
        if query.statistics.contains(.covariance) || query.statistics.contains(.correlation) {
            covariance = columns.filter { $0.kind == .numeric }.map(\.name)
            guard !covariance.isEmpty else {
                throw AnalyticsError(.invalidQuery, "covariance and correlation need numeric columns; the query names none")
            }
        }
        return QueryPlan(query: query, columns: columns, groups: groups, covarianceColumns: covariance)
    }

    /// The query of a preliminary round that finds bins for columns without a declared range, or nil when every
    /// histogram and quantile column has one.
    public static func preliminaryQuery(for query: StatisticsQuery, schema: DatasetSchema) throws(AnalyticsError) -> StatisticsQuery? {
        guard query.statistics.contains(.histogram) || query.statistics.contains(.quantiles) else { return nil }
        let names = try Self.columns(query, schema).filter { name in
            let spec = schema.column(named: name)!
            return spec.type == .numeric && spec.range == nil && query.histogram.ranges[name] == nil
        }
        guard !names.isEmpty else { return nil }
        if query.privacy != nil {
            throw AnalyticsError(.invalidQuery, "histograms with noise need declared ranges; add `range: [min, max]` to \(names.joined(separator: ", ")) in the schema")
        }
        return StatisticsQuery(statistics: [.count, .mean, .standardDeviation], columns: names, filter: query.filter,
                               rows: query.rows, minimumCellCount: query.minimumCellCount)
    }

    static func columns(_ query: StatisticsQuery, _ schema: DatasetSchema) throws(AnalyticsError) -> [String] {
        if query.columns.isEmpty {
            let numeric = schema.featureColumns.filter { $0.type == .numeric }.map(\.name)
            guard !numeric.isEmpty else {
                throw AnalyticsError(.invalidQuery, "the schema has no numeric feature columns; list the columns to summarise under `columns:`")
            }
            return numeric
        }
        var seen = Set<String>()
        for name in query.columns {
            guard let spec = schema.column(named: name) else {
                throw AnalyticsError(.unknownColumn, "the schema has no column '\(name)'; columns: \(schema.columns.map(\.name).joined(separator: ", "))")
            }
            guard spec.role != .id && spec.role != .ignore else {
                throw AnalyticsError(.invalidQuery, "'\(name)' is an \(spec.role.rawValue) column; identifiers and ignored columns cannot be summarised")
            }
            guard seen.insert(name).inserted else {
                throw AnalyticsError(.invalidQuery, "'\(name)' is listed twice under `columns:`")
            }
        }
        return query.columns
    }

    static func range(
        of name: String, query: StatisticsQuery, spec: ColumnSpec, preliminary: MergedStatistics?
    ) throws(AnalyticsError) -> (Double, Double) {
        if let r = query.histogram.ranges[name] { return (r[0], r[1]) }
        if let r = spec.range { return (r[0], r[1]) }
        guard let prelim = preliminary else {
            throw AnalyticsError(.planMismatch, "column '\(name)' has no declared range; run the preliminary query first or declare `range:`")
        }
        guard let c = prelim.groups.first?.column(name), let mean = c.mean, c.count > 0 else {
            throw AnalyticsError(.planMismatch, "no site released the mean of '\(name)' in the preliminary round, so its bins cannot be chosen; declare `range: [min, max]` for it")
        }
        let sd = c.standardDeviation ?? 0
        let grid = BinGrid.covering(mean - 4 * sd, mean + 4 * sd, bins: query.histogram.bins)
        return (grid.lower, grid.upper)
    }
}
