public import CohortTensor
public import Foundation

/// Loads a federation from the built-in synthetic network or from a directory of CSV files.
public enum FederationLoader {
    /// Options for loading.
    public struct Options: Sendable {
        /// Schema file (nil: `DIR/schema.yaml` if present, else inferred).
        public var schemaURL: URL?
        /// Label column name (nil: the schema's label, or `label` when inferring).
        public var label: String?
        /// Fraction of a site's rows held out for testing when it has no test file.
        public var testFraction: Double
        /// Seed of those splits.
        public var seed: UInt64
        public var policy: ValidationPolicy
        /// Rewrites a site's raw CSV bytes before validation (e.g. a schema harmonisation mapping), given the site's
        /// name and the file's display name; nil: files are read as they are. Needs an explicit schema.
        public var transform: (@Sendable (_ site: String, _ file: String, _ bytes: [UInt8]) throws -> [UInt8])?

        public init(schemaURL: URL? = nil, label: String? = nil, testFraction: Double = 0.25, seed: UInt64 = 42,
                    policy: ValidationPolicy = .strict,
                    transform: (@Sendable (_ site: String, _ file: String, _ bytes: [UInt8]) throws -> [UInt8])? = nil) {
            self.schemaURL = schemaURL
            self.label = label
            self.testFraction = testFraction
            self.seed = seed
            self.policy = policy
            self.transform = transform
        }
    }

    /// The built-in synthetic hospital network, read through the same CSV validation as user data.
    public static func synthetic(seed: UInt64 = 42, hospitals: Int = 47, policy: ValidationPolicy = .strict) throws(DataError) -> Federation {
        let network = SyntheticHospitalNetwork(seed: seed, hospitals: hospitals)
        let schema = SyntheticHospitalNetwork.schema()
        var sites = [SiteData]()
        for h in 0..<hospitals {
            let hospital = network.hospital(h)
            let name = hospital.profile.name
            let (train, trainReport) = try TableLoader.load(bytes: hospital.trainCSV, source: "\(name)_train.csv", schema: schema, policy: policy)
            let (test, testReport) = try TableLoader.load(bytes: hospital.testCSV, source: "\(name)_test.csv", schema: schema, policy: policy)
            sites.append(SiteData(name: name, train: train, test: test, trainReport: trainReport, testReport: testReport,
                                  testWasSplit: false, note: hospital.profile.type.rawValue))
        }
        return Federation(schema: schema, schemaSource: "built-in", schemaNotes: [], sites: sites,
                          source: "synthetic hospital network (\(hospitals) hospitals, seed \(seed))")
    }

    /// A site's files inside a federation directory.
    struct SiteFiles {
        var name: String
        var train: URL
        var test: URL?
    }

    /// Loads `DIR/<site>_train.csv` (+ optional `_test.csv`), or `DIR/<site>/train.csv` (+ optional `test.csv`), or
    /// else every `DIR/<site>.csv` (split into train and test).
    public static func directory(_ dir: URL, options: Options = Options()) throws(DataError) -> Federation {
        let files = try Self.discover(dir)
        // Schema: explicit, then DIR/schema.yaml, then inferred.
        var schema: DatasetSchema
        var schemaSource: String
        var notes = [String]()
        let defaultSchema = dir.appendingPathComponent("schema.yaml")
        if let url = options.schemaURL ?? (FileManager.default.fileExists(atPath: defaultSchema.path) ? defaultSchema : nil) {
            schema = try DatasetSchema.load(from: url)
            schemaSource = url.path
            if let label = options.label, schema.labelColumn?.name != label {
                try schema.setLabel(label)
                try schema.validate(source: url.path)
            }
        } else {
            guard options.transform == nil else {
                throw DataError(.schema, file: dir.path, "a mapping rewrites the files, so the schema cannot be inferred from them",
                                hint: "give the job's schema with --schema or DIR/schema.yaml")
            }
            let inferred = try SchemaInference.infer(files: files.map(\.train), label: options.label ?? "label",
                                                     displayNames: files.map { Self.display($0.train, dir) })
            schema = inferred.schema
            schemaSource = "inferred"
            notes = inferred.notes
        }
        var sites = [SiteData]()
        func load(_ url: URL, site: String) throws(DataError) -> (table: Table, report: ValidationReport) {
            let name = Self.display(url, dir)
            guard let transform = options.transform else {
                return try TableLoader.load(url, schema: schema, policy: options.policy, displayName: name)
            }
            let raw: [UInt8]
            do { raw = [UInt8](try Data(contentsOf: url)) } catch {
                throw DataError(.io, file: name, "cannot read the file: \(error.localizedDescription)", hint: "check the path and permissions")
            }
            let bytes: [UInt8]
            do { bytes = try transform(site, name, raw) } catch let e as DataError {
                throw e
            } catch {
                // The transform's own error names the file.
                throw DataError(.schema, "\(error)")
            }
            return try TableLoader.load(bytes: bytes, source: name, schema: schema, policy: options.policy)
        }
        for f in files {
            let (train, trainReport) = try load(f.train, site: f.name)
            if let testURL = f.test {
                let (test, testReport) = try load(testURL, site: f.name)
                sites.append(SiteData(name: f.name, train: train, test: test, trainReport: trainReport,
                                      testReport: testReport, testWasSplit: false, note: nil))
            } else {
                var rng = Self.splitRandomness(seed: options.seed, site: f.name)
                let split = DataSplit.trainTest(labels: train.labels, testFraction: options.testFraction, rng: &rng)
                sites.append(SiteData(name: f.name, train: train.rows(split.train), test: train.rows(split.test),
                                      trainReport: trainReport, testReport: nil, testWasSplit: true, note: nil))
            }
        }
        return Federation(schema: schema, schemaSource: schemaSource, schemaNotes: notes, sites: sites, source: dir.path)
    }

    /// The randomness of a site's train/test split when it has no test file: the seed and the site name only.
    public static func splitRandomness(seed: UInt64, site: String) -> RandomSource {
        RandomSource(seed: seed).derived("test-split", site)
    }

    static func display(_ url: URL, _ dir: URL) -> String {
        url.path.hasPrefix(dir.path + "/") ? dir.lastPathComponent + "/" + String(url.path.dropFirst(dir.path.count + 1)) : url.path
    }

    static func discover(_ dir: URL) throws(DataError) -> [SiteFiles] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw DataError(.io, file: dir.path, "not a directory",
                            hint: "--data takes a federation directory: DIR/<site>_train.csv or DIR/<site>/train.csv")
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: dir.path) } catch {
            throw DataError(.io, file: dir.path, "cannot list the directory: \(error.localizedDescription)")
        }
        var sites = [SiteFiles]()
        for e in entries where e.hasSuffix("_train.csv") {
            let name = String(e.dropLast("_train.csv".count))
            let test = dir.appendingPathComponent("\(name)_test.csv")
            sites.append(SiteFiles(name: name, train: dir.appendingPathComponent(e),
                                   test: fm.fileExists(atPath: test.path) ? test : nil))
        }
        if sites.isEmpty {
            for e in entries {
                let sub = dir.appendingPathComponent(e)
                let train = sub.appendingPathComponent("train.csv")
                if fm.fileExists(atPath: train.path) {
                    let test = sub.appendingPathComponent("test.csv")
                    sites.append(SiteFiles(name: e, train: train, test: fm.fileExists(atPath: test.path) ? test : nil))
                }
            }
        }
        if sites.isEmpty {
            for e in entries where e.hasSuffix(".csv") && !e.hasSuffix("_test.csv") {
                sites.append(SiteFiles(name: String(e.dropLast(4)), train: dir.appendingPathComponent(e), test: nil))
            }
        }
        guard !sites.isEmpty else {
            throw DataError(.federation, file: dir.path, "no site data found",
                            hint: "expected DIR/<site>_train.csv (and optional <site>_test.csv), or DIR/<site>/train.csv")
        }
        return sites.sorted { NaturalOrder.less($0.name, $1.name) }
    }
}

/// Orders names so that embedded numbers compare by value (`site2` before `site10`).
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        func chunks(_ s: String) -> [(Bool, String)] {
            var out = [(Bool, String)]()
            for ch in s {
                let digit = ch.isASCII && ch.isNumber
                if let last = out.last, last.0 == digit { out[out.count - 1].1.append(ch) } else { out.append((digit, String(ch))) }
            }
            return out
        }
        let ca = chunks(a), cb = chunks(b)
        for (x, y) in zip(ca, cb) where x.1 != y.1 {
            if x.0 && y.0, let i = Int(x.1), let j = Int(y.1), i != j { return i < j }
            return x.1 < y.1
        }
        return ca.count < cb.count
    }
}
