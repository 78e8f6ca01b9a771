/// A statistic a ``StatisticsQuery`` can ask for.
///
/// Written in YAML by name: `count`, `sum`, `mean`, `variance`, `std`, `min`, `max`, `histogram`, `quantiles`,
/// `missing`, `covariance`, `correlation`.
public struct Statistic: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The name used in query files and outputs.
    public let name: String

    private init(_ name: String) { self.name = name }

    /// Non-missing values per column (and rows per group).
    public static let count = Statistic("count")
    /// Sum of the values (compensated summation, exact merge).
    public static let sum = Statistic("sum")
    /// Arithmetic mean, merged from per-site counts and sums.
    public static let mean = Statistic("mean")
    /// Sample variance (n - 1 denominator), merged from (n, mean, M2) triples.
    public static let variance = Statistic("variance")
    /// Sample standard deviation.
    public static let standardDeviation = Statistic("std")
    /// Smallest value: disclosive, released only with `release_min_max: true` and the site's consent.
    public static let minimum = Statistic("min")
    /// Largest value: disclosive, released only with `release_min_max: true` and the site's consent.
    public static let maximum = Statistic("max")
    /// Counts in fixed bins shared by every site (categorical columns: counts per category).
    public static let histogram = Statistic("histogram")
    /// Quantiles from fine shared bins, with a stated error bound.
    public static let quantiles = Statistic("quantiles")
    /// Missing values per column.
    public static let missing = Statistic("missing")
    /// Covariance matrix of the numeric columns (complete cases).
    public static let covariance = Statistic("covariance")
    /// Correlation matrix of the numeric columns (complete cases).
    public static let correlation = Statistic("correlation")

    /// Every statistic, in output order.
    public static let all: [Statistic] = [
        .count, .sum, .mean, .variance, .standardDeviation, .minimum, .maximum, .histogram, .quantiles, .missing,
        .covariance, .correlation,
    ]

    /// The statistic with a name, if there is one.
    public init?(name: String) {
        guard let s = Self.all.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    /// Whether releasing this statistic can expose one record's value.
    public var isDisclosive: Bool { self == .minimum || self == .maximum }

    /// Whether the statistic needs per-column moments (count, mean, M2).
    var needsMoments: Bool {
        [.sum, .mean, .variance, .standardDeviation].contains(self)
    }

    public var description: String { self.name }

    public static func < (a: Statistic, b: Statistic) -> Bool {
        (Self.all.firstIndex(of: a) ?? 0) < (Self.all.firstIndex(of: b) ?? 0)
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let s = Statistic(name: name) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unknown statistic '\(name)'; use one of \(Self.all.map(\.name).joined(separator: ", "))"))
        }
        self = s
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(self.name)
    }
}
