public import Foundation

/// The JSON document that travels with exported weights: what the model is, what data and preprocessing it
/// expects, how it was trained, and the SHA-256 of its weights file.
public struct ModelCard: Sendable, Codable {
    /// One encoded input feature, in model input order.
    public struct Feature: Sendable, Hashable, Codable {
        /// Encoded feature name, e.g. `age` or `sex=female`.
        public var name: String
        /// Source column in the data.
        public var column: String
        /// How the column was encoded: `numeric`, `binary`, `one-hot`, `missing-indicator`.
        public var encoding: String
        /// Category for one-hot features.
        public var category: String?
        /// Standardisation mean and standard deviation (absent when not standardised).
        public var mean: Double?
        public var standardDeviation: Double?
        /// Value used for missing inputs before standardisation.
        public var imputedValue: Double?

        enum CodingKeys: String, CodingKey {
            case name, column, encoding, category, mean
            case standardDeviation = "std"
            case imputedValue = "imputed_value"
        }

        public init(name: String, column: String, encoding: String, category: String? = nil, mean: Double? = nil,
                    standardDeviation: Double? = nil, imputedValue: Double? = nil) {
            self.name = name
            self.column = column
            self.encoding = encoding
            self.category = category
            self.mean = mean
            self.standardDeviation = standardDeviation
            self.imputedValue = imputedValue
        }
    }

    /// The outcome.
    public struct Label: Sendable, Hashable, Codable {
        public var column: String
        /// Class names in class-index order.
        public var classes: [String]
        public init(column: String, classes: [String]) {
            self.column = column
            self.classes = classes
        }
    }

    /// Where the model came from.
    public struct Provenance: Sendable, Codable {
        public var tool: String
        public var version: String
        public var created: String
        public var strategy: String
        public var rounds: Int
        public var seed: UInt64
        public var sites: [String: Int]
        public var localTraining: TrainingConfig
        public var standardize: String
        public var dataSource: String

        enum CodingKeys: String, CodingKey {
            case tool, version, created, strategy, rounds, seed, sites, standardize
            case localTraining = "local_training"
            case dataSource = "data_source"
        }

        public init(tool: String = "cohort", version: String, created: String, strategy: String, rounds: Int, seed: UInt64,
                    sites: [String: Int], localTraining: TrainingConfig, standardize: String, dataSource: String) {
            self.tool = tool
            self.version = version
            self.created = created
            self.strategy = strategy
            self.rounds = rounds
            self.seed = seed
            self.sites = sites
            self.localTraining = localTraining
            self.standardize = standardize
            self.dataSource = dataSource
        }
    }

    /// The weights file the card describes.
    public struct Weights: Sendable, Hashable, Codable {
        public var file: String
        public var format: String
        public var bytes: Int
        public var sha256: String
        public var parameterCount: Int

        enum CodingKeys: String, CodingKey {
            case file, format, bytes, sha256
            case parameterCount = "parameter_count"
        }

        public init(file: String, format: String = "safetensors", bytes: Int, sha256: String, parameterCount: Int) {
            self.file = file
            self.format = format
            self.bytes = bytes
            self.sha256 = sha256
            self.parameterCount = parameterCount
        }
    }

    public var format: String
    public var model: ModelSpec
    public var label: Label
    public var features: [Feature]
    public var schema: JSONValue?
    public var training: Provenance
    public var weights: Weights
    public var metrics: [String: ClassificationMetrics]

    public init(model: ModelSpec, label: Label, features: [Feature], schema: JSONValue?, training: Provenance,
                weights: Weights, metrics: [String: ClassificationMetrics]) {
        self.format = "cohort.model-card/1"
        self.model = model
        self.label = label
        self.features = features
        self.schema = schema
        self.training = training
        self.weights = weights
        self.metrics = metrics
    }

    /// Pretty JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}

/// Writing and reading a model as `NAME.safetensors` plus `NAME.card.json`.
public enum ModelExport {
    /// Writes the weights and a card; the card's `weights` entry is filled in from the bytes written.
    ///
    /// - Returns: the SHA-256 of the weights file.
    @discardableResult
    public static func write(_ parameters: ModelParameters, card: ModelCard, to weightsURL: URL) throws -> String {
        let bytes = Safetensors.encode(parameters, metadata: [
            "format": "cohort", "model": card.model.description, "card": cardURL(for: weightsURL).lastPathComponent,
        ])
        let sha = Safetensors.sha256Hex(bytes)
        try Data(bytes).write(to: weightsURL, options: .atomic)
        var c = card
        c.weights = ModelCard.Weights(
            file: weightsURL.lastPathComponent, bytes: bytes.count, sha256: sha, parameterCount: parameters.count)
        try c.jsonData().write(to: cardURL(for: weightsURL), options: .atomic)
        return sha
    }

    /// Reads a model and its card, checking the weights' SHA-256 against the card.
    public static func read(from weightsURL: URL) throws -> (parameters: ModelParameters, card: ModelCard) {
        let cardData = try Data(contentsOf: cardURL(for: weightsURL))
        let card = try JSONDecoder().decode(ModelCard.self, from: cardData)
        let bytes = [UInt8](try Data(contentsOf: weightsURL))
        let sha = Safetensors.sha256Hex(bytes)
        guard sha == card.weights.sha256 else {
            throw ModelError.format(
                "\(weightsURL.path): SHA-256 \(sha) does not match the model card (\(card.weights.sha256)); the file was changed or belongs to another card")
        }
        let contents = try Safetensors.decode(bytes, source: weightsURL.path)
        let params = try Safetensors.parameters(from: contents, layout: card.model.layout, source: weightsURL.path)
        return (params, card)
    }

    /// `model.safetensors` -> `model.card.json`.
    public static func cardURL(for weightsURL: URL) -> URL {
        weightsURL.deletingPathExtension().appendingPathExtension("card.json")
    }
}
