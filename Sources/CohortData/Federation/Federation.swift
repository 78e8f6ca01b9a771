public import CohortTensor
public import Foundation

/// One site's validated data.
public struct SiteData: Sendable {
    public var name: String
    public var train: Table
    public var test: Table
    public var trainReport: ValidationReport
    public var testReport: ValidationReport?
    /// True when the test set was split off the training file (the site had no test file).
    public var testWasSplit: Bool
    /// A short description of the site (e.g. its hospital type), if known.
    public var note: String?

    public init(name: String, train: Table, test: Table, trainReport: ValidationReport, testReport: ValidationReport?,
                testWasSplit: Bool, note: String?) {
        self.name = name
        self.train = train
        self.test = test
        self.trainReport = trainReport
        self.testReport = testReport
        self.testWasSplit = testWasSplit
        self.note = note
    }
}

/// How numeric features are standardised.
public enum StandardizeMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each site with its own training mean and standard deviation (FLamby's Fed-Heart-Disease setting).
    case perSite = "per-site"
    /// Every site with the federation's pooled training mean and standard deviation, combined exactly from
    /// per-site sums.
    case global
    /// No standardisation (missing values are still imputed with the mean).
    case none
}

/// Encoded data of one site, ready for training.
public struct EncodedSite: Sendable {
    public var name: String
    public var train: ExampleSet
    public var test: ExampleSet
    public var encoder: FeatureEncoder
}

/// The sites of a federation, all validated against one schema.
public struct Federation: Sendable {
    public var schema: DatasetSchema
    /// Where the schema came from: a file path, "built-in", or "inferred".
    public var schemaSource: String
    /// What schema inference decided, one line per column (empty when a schema was given).
    public var schemaNotes: [String]
    public var sites: [SiteData]
    /// Where the data came from.
    public var source: String

    public init(schema: DatasetSchema, schemaSource: String, schemaNotes: [String], sites: [SiteData], source: String) {
        self.schema = schema
        self.schemaSource = schemaSource
        self.schemaNotes = schemaNotes
        self.sites = sites
        self.source = source
    }

    /// Training statistics of every site, in site order.
    public var siteStatistics: [TableStatistics] { self.sites.map { TableStatistics($0.train) } }

    /// Encodes every site.
    ///
    /// With `.perSite` and `.none` each site uses only its own training statistics (to standardise, and to impute
    /// missing values), exactly as a site does on the network; `.global` shares the pooled statistics.
    ///
    /// - Returns: the encoded sites and, for `.global`, the single encoder they share.
    ///
    /// - Parameter globalStatistics: For `.global`, the federation's statistics as federated analytics released
    ///   them (`CohortAnalytics.FederatedStandardization`); nil merges the sites' exact statistics here.
    public func encoded(standardize: StandardizeMode, globalStatistics: TableStatistics? = nil) -> (sites: [EncodedSite], sharedEncoder: FeatureEncoder?) {
        let stats = self.siteStatistics
        var shared: FeatureEncoder?
        if standardize == .global {
            shared = FeatureEncoder(schema: self.schema, statistics: globalStatistics ?? TableStatistics.merged(stats)!, standardize: true)
        }
        let sites = zip(self.sites, stats).map { site, s in
            let enc = shared ?? FeatureEncoder(schema: self.schema, statistics: s, standardize: standardize == .perSite)
            return EncodedSite(name: site.name, train: enc.encode(site.train), test: enc.encode(site.test), encoder: enc)
        }
        return (sites, shared)
    }

    /// Re-divides the pooled rows of all sites among `sites` new sites (for simulation studies of skew).
    ///
    /// Training and test rows are pooled and partitioned separately with the same partitioner, each new site
    /// receiving rows of its own label mix for both.
    public func repartitioned(_ partitioner: Partitioner, sites count: Int, rng: inout RandomSource) -> Federation {
        let train = Table.concatenate(self.sites.map(\.train), source: "pooled")!
        let test = Table.concatenate(self.sites.map(\.test), source: "pooled")!
        var trainRng = rng.derived("train"), testRng = rng.derived("test")
        let trainParts = partitioner.assign(labels: train.labels, sites: count, rng: &trainRng)
        let testParts: [[Int]]
        if case .dirichlet = partitioner {
            // Give each site test rows with the same label proportions as its training rows.
            testParts = Self.matchLabelMix(test.labels, to: trainParts.map { train.rows($0).labels }, rng: &testRng)
        } else {
            testParts = partitioner.assign(labels: test.labels, sites: count, rng: &testRng)
        }
        let width = max(2, String(count).count)
        let newSites = (0..<count).map { k -> SiteData in
            let name = "site-" + String(repeating: "0", count: max(0, width - String(k + 1).count)) + String(k + 1)
            let tr = train.rows(trainParts[k]), te = test.rows(testParts[k])
            var rep = ValidationReport(file: "\(partitioner) partition \(k + 1)", columns: self.schema.columns.map(\.name))
            rep.rowsRead = tr.rowCount
            rep.rowsAccepted = tr.rowCount
            return SiteData(name: name, train: tr, test: te, trainReport: rep, testReport: nil, testWasSplit: false,
                            note: "\(partitioner)")
        }
        return Federation(schema: self.schema, schemaSource: self.schemaSource, schemaNotes: self.schemaNotes,
                          sites: newSites, source: "\(self.source), repartitioned \(partitioner) into \(count) sites")
    }

    static func matchLabelMix(_ labels: [Int32], to siteLabels: [[Int32]], rng: inout RandomSource) -> [[Int]] {
        let classes = Int(max(labels.max() ?? 0, siteLabels.compactMap { $0.max() }.max() ?? 0)) + 1
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
        var out = [[Int]](repeating: [], count: siteLabels.count)
        for c in 0..<classes {
            var idx = byClass[c]
            rng.shuffle(&idx)
            let weights = siteLabels.map { Double($0.filter { Int($0) == c }.count) }
            let total = weights.reduce(0, +)
            guard total > 0 else { continue }
            let cuts = Partitioner.cuts(proportions: weights.map { $0 / total }, total: idx.count)
            for s in 0..<siteLabels.count { out[s] += idx[cuts[s]..<cuts[s + 1]] }
        }
        return out.map { $0.sorted() }
    }
}
