public import CohortData
public import CohortModel
public import CohortTensor
public import Foundation

/// One site's data directory, loaded and encoded for a job.
///
/// A site's `--data DIR` holds `train.csv` (and optionally `test.csv`), or `<site>_train.csv` (and optionally
/// `<site>_test.csv`), as in a simulation's federation directory. Without a test file the site splits its rows
/// exactly as the simulation does, so a job and its simulation see the same examples.
public struct SiteDataset: Sendable {
    public var site: SiteData
    public var encoded: EncodedSite

    /// Loads, validates and encodes the site's data for a schema.
    public static func load(
        directory: URL, site name: String, schema: DatasetSchema, standardize: StandardizeMode, testFraction: Double,
        seed: UInt64, policy: ValidationPolicy = .strict, globalStatistics: TableStatistics? = nil
    ) throws(DataError) -> SiteDataset {
        let fm = FileManager.default
        let candidates = [("train.csv", "test.csv"), ("\(name)_train.csv", "\(name)_test.csv")]
        guard let (trainName, testName) = candidates.first(where: { fm.fileExists(atPath: directory.appendingPathComponent($0.0).path) }) else {
            throw DataError(.federation, file: directory.path, "no training data found",
                            hint: "put train.csv (and optionally test.csv) or \(name)_train.csv in the data directory")
        }
        let trainURL = directory.appendingPathComponent(trainName)
        let (train, trainReport) = try TableLoader.load(trainURL, schema: schema, policy: policy, displayName: trainName)
        let testURL = directory.appendingPathComponent(testName)
        let site: SiteData
        if fm.fileExists(atPath: testURL.path) {
            let (test, testReport) = try TableLoader.load(testURL, schema: schema, policy: policy, displayName: testName)
            site = SiteData(name: name, train: train, test: test, trainReport: trainReport, testReport: testReport, testWasSplit: false, note: nil)
        } else {
            var rng = FederationLoader.splitRandomness(seed: seed, site: name)
            let split = DataSplit.trainTest(labels: train.labels, testFraction: testFraction, rng: &rng)
            site = SiteData(name: name, train: train.rows(split.train), test: train.rows(split.test), trainReport: trainReport,
                            testReport: nil, testWasSplit: true, note: nil)
        }
        guard standardize != .global || globalStatistics != nil else {
            throw DataError(.federation, "global standardisation needs the federation's statistics, and the coordinator sent none")
        }
        let fed = Federation(schema: schema, schemaSource: "job", schemaNotes: [], sites: [site], source: directory.path)
        let encoded = fed.encoded(standardize: standardize, globalStatistics: globalStatistics).sites[0]
        return SiteDataset(site: site, encoded: encoded)
    }
}
