public import Foundation

/// A question for every site of a federation: which statistics, of which columns, over which rows.
///
/// Parsed from `query.yaml`:
/// ```yaml
/// statistics: [count, mean, std, histogram, quantiles, missing, correlation]
/// columns: [age, length_of_stay, creatinine]   # default: every numeric feature
/// group_by: admission_type                      # optional categorical or binary column
/// filter: "age >= 65 and sex == female"         # optional, see RowFilter
/// rows: all                                     # all | train | test (default all)
/// histogram: {bins: 10, ranges: {age: [18, 100]}}   # default 20 bins over the schema's range
/// quantiles: {probabilities: [0.25, 0.5, 0.75], resolution: 1000}
/// release_min_max: false                        # min/max are disclosive: opt in per query
/// min_cell_count: 10                            # optional; sites refuse values below their own minimum
/// privacy: {mechanism: laplace, epsilon: 1.0}   # optional DP noise (gaussian also needs delta)
/// ```
public struct StatisticsQuery: Sendable, Hashable, Codable {
    /// Which rows of each site the query reads.
    public enum Rows: String, Sendable, Hashable, Codable, CaseIterable {
        case all, train, test
    }

    /// Fixed bins for histograms.
    public struct HistogramOptions: Sendable, Hashable, Codable {
        /// Bins between the range's ends (plus one below and one above for values outside it).
        public var bins: Int
        /// Ranges per column; others use the schema's `range`, else mean ± 4 SD from a preliminary round.
        public var ranges: [String: [Double]]

        public init(bins: Int = 20, ranges: [String: [Double]] = [:]) {
            self.bins = bins
            self.ranges = ranges
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? 20
            self.ranges = try c.decodeIfPresent([String: [Double]].self, forKey: .ranges) ?? [:]
        }
    }

    /// Quantiles from fine shared bins.
    public struct QuantileOptions: Sendable, Hashable, Codable {
        public var probabilities: [Double]
        /// Fine bins across the column's range; the error bound is one bin width (or the width of a released run
        /// of bins when the site coarsens to keep k records per run).
        public var resolution: Int

        public init(probabilities: [Double] = [0.05, 0.25, 0.5, 0.75, 0.95], resolution: Int = 1000) {
            self.probabilities = probabilities
            self.resolution = resolution
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.probabilities = try c.decodeIfPresent([Double].self, forKey: .probabilities) ?? [0.05, 0.25, 0.5, 0.75, 0.95]
            self.resolution = try c.decodeIfPresent(Int.self, forKey: .resolution) ?? 1000
        }
    }

    public var statistics: [Statistic]
    /// Columns to summarise (empty: every numeric feature column).
    public var columns: [String]
    public var groupBy: String?
    public var filter: RowFilter?
    public var rows: Rows
    public var histogram: HistogramOptions
    public var quantiles: QuantileOptions
    /// Whether the analyst asks for min and max (each site's policy must also allow them).
    public var releaseMinMax: Bool
    /// The minimum cell count the analyst asks for (nil: each site's own).
    public var minimumCellCount: Int?
    /// Differential privacy noise, if wanted.
    public var privacy: PrivacyRequest?

    enum CodingKeys: String, CodingKey {
        case statistics, columns, filter, rows, histogram, quantiles, privacy
        case groupBy = "group_by"
        case releaseMinMax = "release_min_max"
        case minimumCellCount = "min_cell_count"
    }

    public init(
        statistics: [Statistic], columns: [String] = [], groupBy: String? = nil, filter: RowFilter? = nil,
        rows: Rows = .all, histogram: HistogramOptions = .init(), quantiles: QuantileOptions = .init(),
        releaseMinMax: Bool = false, minimumCellCount: Int? = nil, privacy: PrivacyRequest? = nil
    ) {
        self.statistics = statistics
        self.columns = columns
        self.groupBy = groupBy
        self.filter = filter
        self.rows = rows
        self.histogram = histogram
        self.quantiles = quantiles
        self.releaseMinMax = releaseMinMax
        self.minimumCellCount = minimumCellCount
        self.privacy = privacy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.statistics = try c.decode([Statistic].self, forKey: .statistics)
        self.columns = try c.decodeIfPresent([String].self, forKey: .columns) ?? []
        self.groupBy = try c.decodeIfPresent(String.self, forKey: .groupBy)
        self.filter = try c.decodeIfPresent(RowFilter.self, forKey: .filter)
        self.rows = try c.decodeIfPresent(Rows.self, forKey: .rows) ?? .all
        self.histogram = try c.decodeIfPresent(HistogramOptions.self, forKey: .histogram) ?? .init()
        self.quantiles = try c.decodeIfPresent(QuantileOptions.self, forKey: .quantiles) ?? .init()
        self.releaseMinMax = try c.decodeIfPresent(Bool.self, forKey: .releaseMinMax) ?? false
        self.minimumCellCount = try c.decodeIfPresent(Int.self, forKey: .minimumCellCount)
        self.privacy = try c.decodeIfPresent(PrivacyRequest.self, forKey: .privacy)
    }

    /// Checks the query on its own (without a schema).
    public func validate() throws(AnalyticsError) {
        guard !self.statistics.isEmpty else {
            throw AnalyticsError(.invalidQuery, "the query asks for no statistics; list some under `statistics:` (\(Statistic.all.map(\.name).joined(separator: ", ")))")
        }
        if self.statistics.contains(where: \.isDisclosive) && !self.releaseMinMax {
            throw AnalyticsError(.invalidQuery, "min and max expose single records; set `release_min_max: true` to ask for them (each site's policy must also allow it)")
        }
        guard (1...10_000).contains(self.histogram.bins) else {
            throw AnalyticsError(.invalidQuery, "histogram bins must be between 1 and 10000, not \(self.histogram.bins)")
        }
        for (column, r) in self.histogram.ranges where !(r.count == 2 && r[0] < r[1] && r.allSatisfy(\.isFinite)) {
            throw AnalyticsError(.invalidQuery, "histogram range of '\(column)' must be [low, high] with low < high")
        }
        guard (10...100_000).contains(self.quantiles.resolution) else {
            throw AnalyticsError(.invalidQuery, "quantile resolution must be between 10 and 100000 bins, not \(self.quantiles.resolution)")
        }
        for p in self.quantiles.probabilities where !(p > 0 && p < 1) {
            throw AnalyticsError(.invalidQuery, "quantile probabilities must lie strictly between 0 and 1; \(p) does not")
        }
        if let k = self.minimumCellCount, k < 1 {
            throw AnalyticsError(.invalidQuery, "min_cell_count must be at least 1, not \(k)")
        }
        try self.privacy?.validate()
    }

    /// Parses a query from YAML text.
    public static func parse(yaml: String, source: String = "query") throws(AnalyticsError) -> StatisticsQuery {
        let query = try YAMLFile.decode(StatisticsQuery.self, from: yaml, source: source, code: .invalidQuery)
        try query.validate()
        return query
    }

    /// Loads a query file.
    public static func load(from url: URL) throws(AnalyticsError) -> StatisticsQuery {
        try Self.parse(yaml: YAMLFile.read(url, what: "query file"), source: url.path)
    }
}

/// Differential privacy noise requested by a query.
public struct PrivacyRequest: Sendable, Hashable, Codable {
    /// Noise distributions.
    public enum Mechanism: String, Sendable, Hashable, Codable, CaseIterable {
        /// Laplace noise scaled to the L1 sensitivity: pure epsilon-DP.
        case laplace
        /// Gaussian noise scaled to the L2 sensitivity (analytic calibration): (epsilon, delta)-DP.
        case gaussian
    }

    public var mechanism: Mechanism
    /// Total epsilon the query may spend at each site.
    public var epsilon: Double
    /// Total delta (Gaussian only).
    public var delta: Double?

    public init(mechanism: Mechanism, epsilon: Double, delta: Double? = nil) {
        self.mechanism = mechanism
        self.epsilon = epsilon
        self.delta = delta
    }

    func validate() throws(AnalyticsError) {
        guard self.epsilon > 0, self.epsilon.isFinite, self.epsilon <= 100 else {
            throw AnalyticsError(.invalidQuery, "privacy epsilon must be positive (at most 100), not \(self.epsilon)")
        }
        switch self.mechanism {
        case .laplace:
            if let d = self.delta, d != 0 {
                throw AnalyticsError(.invalidQuery, "the Laplace mechanism spends no delta; remove `delta` or use `mechanism: gaussian`")
            }
        case .gaussian:
            guard let d = self.delta, d > 0, d < 1 else {
                throw AnalyticsError(.invalidQuery, "the Gaussian mechanism needs `delta` in (0, 1), e.g. 1e-6")
            }
        }
    }
}
