/// Mergeable summary statistics of one column: count, mean and sum of squared deviations (numeric), or counts per
/// category.
///
/// Merging uses the pairwise update of Chan, Golub and LeVeque (1979), so the mean and variance of several sites
/// combined are exact up to rounding, not averages of averages.
public struct ColumnStatistics: Sendable, Hashable, Codable {
    public var name: String
    /// Non-missing values.
    public var count: Int = 0
    public var missing: Int = 0
    public var mean: Double = 0
    /// Sum of squared deviations from the mean.
    public var m2: Double = 0
    public var minimum: Double = .infinity
    public var maximum: Double = -.infinity
    /// Counts per level (categorical and binary columns).
    public var categoryCounts: [Int] = []

    public init(name: String, levels: Int = 0) {
        self.name = name
        self.categoryCounts = [Int](repeating: 0, count: levels)
    }

    /// Sample variance (n - 1 denominator); 0 with fewer than two values.
    public var variance: Double { self.count > 1 ? self.m2 / Double(self.count - 1) : 0 }

    /// Sample standard deviation.
    public var standardDeviation: Double { self.variance.squareRoot() }

    /// Adds one value (Welford's update).
    public mutating func add(_ x: Double) {
        guard !x.isNaN else {
            self.missing += 1
            return
        }
        self.count += 1
        let d = x - self.mean
        self.mean += d / Double(self.count)
        self.m2 += d * (x - self.mean)
        self.minimum = min(self.minimum, x)
        self.maximum = max(self.maximum, x)
    }

    /// Adds another column's statistics.
    public mutating func merge(_ o: ColumnStatistics) {
        if o.count > 0 {
            let n = Double(self.count + o.count)
            let d = o.mean - self.mean
            self.mean += d * Double(o.count) / n
            self.m2 += o.m2 + d * d * Double(self.count) * Double(o.count) / n
            self.count += o.count
            self.minimum = min(self.minimum, o.minimum)
            self.maximum = max(self.maximum, o.maximum)
        }
        self.missing += o.missing
        if self.categoryCounts.count < o.categoryCounts.count {
            self.categoryCounts += [Int](repeating: 0, count: o.categoryCounts.count - self.categoryCounts.count)
        }
        for i in o.categoryCounts.indices { self.categoryCounts[i] += o.categoryCounts[i] }
    }
}

/// Statistics of every feature and label column of a table.
public struct TableStatistics: Sendable, Hashable, Codable {
    public var rowCount: Int
    /// Aligned with the schema's columns (id and ignored columns are empty).
    public var columns: [ColumnStatistics]

    /// Computes statistics of a table.
    public init(_ table: Table) {
        self.rowCount = table.rowCount
        self.columns = zip(table.schema.columns, table.columns).map { spec, values in
            var s = ColumnStatistics(name: spec.name, levels: spec.levels.count)
            switch values {
            case .numeric(let a): for v in a { s.add(v) }
            case .categorical(let a):
                for v in a {
                    if v >= 0 { s.categoryCounts[Int(v)] += 1; s.count += 1 } else { s.missing += 1 }
                }
            case .text: break
            }
            return s
        }
    }

    /// Merges the statistics of several tables with the same schema, in the given order.
    public static func merged(_ parts: [TableStatistics]) -> TableStatistics? {
        guard var total = parts.first else { return nil }
        for p in parts.dropFirst() {
            total.rowCount += p.rowCount
            for i in total.columns.indices { total.columns[i].merge(p.columns[i]) }
        }
        return total
    }

    /// Statistics of a named column.
    public func column(_ name: String) -> ColumnStatistics? { self.columns.first { $0.name == name } }
}
