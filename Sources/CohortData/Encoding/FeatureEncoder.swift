public import CohortModel
public import CohortTensor

/// Turns validated tables into model inputs: numeric columns standardised with given statistics (missing values
/// imputed with the mean), binary columns as 0/1, categorical columns one-hot over the schema's levels (a missing
/// category sets no level), and the label as a class index.
///
/// The encoder is fixed by the schema and the statistics it was built from; every site of a federation that uses
/// the same schema produces the same feature layout.
public struct FeatureEncoder: Sendable, Hashable, Codable {
    /// Whether and how numeric features are standardised.
    public var standardized: Bool
    /// One entry per model input, in order.
    public var features: [ModelCard.Feature]
    /// The label column and its classes.
    public var label: ModelCard.Label
    /// Schema column index behind each feature.
    var sourceColumns: [Int]
    /// Category index for one-hot features (-1 otherwise).
    var categoryIndex: [Int]

    /// Builds an encoder.
    ///
    /// - Parameters:
    ///   - statistics: Training statistics (their means impute missing values and, when `standardize`, center and
    ///     scale numeric features).
    public init(schema: DatasetSchema, statistics: TableStatistics, standardize: Bool) {
        self.standardized = standardize
        var features = [ModelCard.Feature]()
        var source = [Int]()
        var cats = [Int]()
        for (ci, spec) in schema.columns.enumerated() where spec.role == .feature {
            let stats = statistics.columns[ci]
            switch spec.type {
            case .numeric:
                let mean = stats.count > 0 ? stats.mean : 0
                var sd = stats.standardDeviation
                if !(sd > 1e-12) { sd = 1 }
                features.append(ModelCard.Feature(
                    name: spec.name, column: spec.name, encoding: "numeric",
                    mean: standardize ? mean : nil, standardDeviation: standardize ? sd : nil, imputedValue: mean))
                source.append(ci)
                cats.append(-1)
            case .binary:
                features.append(ModelCard.Feature(name: spec.name, column: spec.name, encoding: "binary",
                                                  category: spec.levels[1], imputedValue: 0))
                source.append(ci)
                cats.append(1)
            case .categorical:
                for (li, level) in spec.levels.enumerated() {
                    features.append(ModelCard.Feature(name: "\(spec.name)=\(level)", column: spec.name,
                                                      encoding: "one-hot", category: level))
                    source.append(ci)
                    cats.append(li)
                }
            }
        }
        self.features = features
        self.sourceColumns = source
        self.categoryIndex = cats
        let labelSpec = schema.labelColumn!
        self.label = ModelCard.Label(column: labelSpec.name, classes: labelSpec.levels)
    }

    /// Number of model inputs.
    public var featureCount: Int { self.features.count }

    /// Number of classes.
    public var classCount: Int { self.label.classes.count }

    /// Encodes a table (same schema as the encoder's).
    public func encode(_ table: Table) -> ExampleSet {
        let n = table.rowCount
        let d = self.featureCount
        var x = [Float](repeating: 0, count: n * d)
        for (j, ci) in self.sourceColumns.enumerated() {
            let f = self.features[j]
            switch table.columns[ci] {
            case .numeric(let values):
                let impute = f.imputedValue ?? 0
                let mean = f.mean ?? 0, sd = f.standardDeviation ?? 1
                for r in 0..<n {
                    let v = values[r].isNaN ? impute : values[r]
                    x[r * d + j] = Float((v - mean) / sd)
                }
            case .categorical(let values):
                let k = Int32(self.categoryIndex[j])
                for r in 0..<n where values[r] == k { x[r * d + j] = 1 }
            case .text:
                break
            }
        }
        return ExampleSet(features: x, featureCount: d, labels: table.labels, classCount: self.classCount)
    }
}
