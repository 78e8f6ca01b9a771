import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import Testing

/// The generator's documented properties (docs/synthetic-data.md).
@Suite("Synthetic hospital network")
struct SyntheticNetworkTests {
    static let network = SyntheticHospitalNetwork(seed: 42, hospitals: 47)
    static let federation = try! FederationLoader.synthetic(seed: 42, hospitals: 47)

    @Test("deterministic for a seed, different for another seed")
    func deterministic() {
        let again = SyntheticHospitalNetwork(seed: 42, hospitals: 47)
        #expect(again.hospital(5).trainCSV == Self.network.hospital(5).trainCSV)
        #expect(SyntheticHospitalNetwork(seed: 43, hospitals: 47).hospital(5).trainCSV != Self.network.hospital(5).trainCSV)
        // A hospital does not depend on how many others are generated.
        #expect(SyntheticHospitalNetwork(seed: 42, hospitals: 10).hospital(5).trainCSV == Self.network.hospital(5).trainCSV)
    }

    @Test("47 hospitals of every type, from about a hundred to about ten thousand patients")
    func sizesAndTypes() {
        let sizes = Self.network.profiles.map(\.patients)
        #expect(Self.network.profiles.count == 47)
        #expect((90...150).contains(sizes.min()!))
        #expect((9000...10000).contains(sizes.max()!))
        #expect(Set(Self.network.profiles.map(\.type)) == Set(SyntheticHospitalNetwork.HospitalType.allCases))
        // Every row validates against the embedded schema.
        let rows = Self.federation.sites.reduce(0) { $0 + $1.train.rowCount + $1.test.rowCount }
        #expect(rows == sizes.reduce(0, +))
    }

    @Test("outcome prevalence, case mix and missingness differ between hospitals")
    func heterogeneity() {
        let rates = Self.federation.sites.map { s -> Double in
            let l = s.train.labels
            return Double(l.filter { $0 == 1 }.count) / Double(l.count)
        }
        #expect(rates.min()! < 0.12 && rates.max()! > 0.25)
        let median = rates.sorted()[rates.count / 2]
        #expect((0.1...0.25).contains(median))
        // Rural hospitals are older and measure albumin less often than teaching hospitals.
        func mean(_ type: SyntheticHospitalNetwork.HospitalType, _ f: (SiteData) -> Double) -> Double {
            let v = zip(Self.network.profiles, Self.federation.sites).filter { $0.0.type == type }.map { f($0.1) }
            return v.reduce(0, +) / Double(v.count)
        }
        let age: (SiteData) -> Double = { s in
            guard case .numeric(let a) = s.train.values(of: "age")! else { return 0 }
            return a.reduce(0, +) / Double(a.count)
        }
        let albuminMissing: (SiteData) -> Double = { s in
            guard case .numeric(let a) = s.train.values(of: "albumin")! else { return 0 }
            return Double(a.filter(\.isNaN).count) / Double(a.count)
        }
        #expect(mean(.rural, age) > mean(.teaching, age) + 4)
        #expect(mean(.rural, albuminMissing) > 3 * mean(.teaching, albuminMissing))
    }

    @Test("the federated problem is real: small hospitals alone do clearly worse than federated training")
    func federationHelps() async throws {
        var settings = RunSettings(rounds: 10, training: TrainingConfig(budget: .epochs(1), batchSize: 32, optimizer: .sgd(learningRate: 0.1)), seed: 42)
        settings.evaluateEvery = 10
        let result = try await Simulation.run(federation: Self.federation, config: SimulationConfig(
            model: .mlp, hidden: [32], settings: settings))
        let local = Dictionary(uniqueKeysWithValues: result.local!.map { ($0.site, $0.metrics.auc ?? 0.5) })
        let small = result.sites.filter { $0.trainCount < 300 }.map(\.name)
        #expect(small.count >= 10)
        let localSmall = small.map { local[$0]! }.reduce(0, +) / Double(small.count)
        let fedSmall = small.map { result.final.sites[$0]!.auc ?? 0.5 }.reduce(0, +) / Double(small.count)
        #expect(fedSmall > localSmall + 0.03, "small sites: federated \(fedSmall) vs local \(localSmall)")
        let localMean = ClassificationMetrics.mean(result.local!.map(\.metrics)).auc!
        #expect(result.final.siteMean.auc! > localMean + 0.02)
        #expect(abs(result.final.siteMean.auc! - result.centralized!.siteMean.auc!) < 0.02)
    }
}
