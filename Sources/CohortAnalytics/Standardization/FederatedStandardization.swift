public import CohortData

/// Global means and standard deviations of a federation's columns computed through federated statistics, for
/// `--standardize global`: the result is a `TableStatistics` that `FeatureEncoder` consumes as it would the pooled
/// statistics, but no site's rows or exact per-site moments ever left the site.
public enum FederatedStandardization {
    /// Statistics for an encoder, with the statistics query they came from.
    public struct Result: Sendable {
        /// Aligned with the schema's columns, like `TableStatistics(table)`.
        public var statistics: TableStatistics
        /// The federated query behind them.
        public var query: StatisticsResult
        /// Columns some site withheld (their statistics exclude that site), with the sites.
        public var incomplete: [String: [String]]
    }

    /// The query: count, mean, variance and missing values of every feature and the label, on training rows.
    public static func query(schema: DatasetSchema) -> StatisticsQuery {
        let columns = schema.columns.filter { $0.role == .feature || $0.role == .label }.map(\.name)
        return StatisticsQuery(statistics: [.count, .mean, .variance, .missing], columns: columns, rows: .train)
    }

    /// Runs the query over a simulated federation and converts the merged result.
    public static func compute(
        federation: Federation, policy: @Sendable (String) -> SiteAnalyticsPolicy = { _ in .standard }
    ) async throws(AnalyticsError) -> Result {
        let result = try await FederatedStatistics.run(Self.query(schema: federation.schema), federation: federation, policy: policy)
        return Self.convert(result, schema: federation.schema)
    }

    /// Converts merged statistics into `TableStatistics` for `schema`.
    public static func convert(_ result: StatisticsResult, schema: DatasetSchema) -> Result {
        let emptyColumns: [Table.Values] = schema.columns.map { spec in
            if spec.role == .id || spec.role == .ignore { return .text([]) }
            return spec.type == .numeric ? .numeric([]) : .categorical([])
        }
        var stats = TableStatistics(Table(schema: schema, source: "federation", columns: emptyColumns, lines: []))
        var incomplete = [String: [String]]()
        guard let group = result.federation.groups.first else { return Result(statistics: stats, query: result, incomplete: [:]) }
        stats.rowCount = Int(group.rows.rounded())
        for (ci, spec) in schema.columns.enumerated() {
            guard let c = group.column(spec.name) else { continue }
            var s = ColumnStatistics(name: spec.name, levels: spec.levels.count)
            s.count = Int(c.count.rounded())
            s.missing = Int((c.missing ?? 0).rounded())
            if spec.type == .numeric, let m = c.moments {
                s.mean = m.mean
                s.m2 = max(0, m.m2)
            }
            if let levels = c.levels { s.categoryCounts = levels.counts.map { Int($0.rounded()) } }
            if let lo = c.minimum { s.minimum = lo }
            if let hi = c.maximum { s.maximum = hi }
            stats.columns[ci] = s
            if !c.excludedSites.isEmpty { incomplete[spec.name] = c.excludedSites }
        }
        return Result(statistics: stats, query: result, incomplete: incomplete)
    }
}
