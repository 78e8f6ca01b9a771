import CohortRuntime
import CohortStrategy
import CohortTesting
import Foundation
import Testing

@Suite("StrategySpec for robust rules")
struct StrategySpecTests {
    @Test("names parse with defaults and given parameters, and survive JSON")
    func parsing() throws {
        #expect(StrategySpec(name: "median") == .median)
        #expect(StrategySpec(name: "trimmed-mean") == .trimmedMean(beta: 0.1))
        #expect(StrategySpec(name: "trimmed-mean", trimFraction: 0.2) == .trimmedMean(beta: 0.2))
        #expect(StrategySpec(name: "krum", byzantine: 3) == .krum(byzantine: 3))
        #expect(StrategySpec(name: "krum") == .krum(byzantine: 1))
        #expect(StrategySpec(name: "multi-krum", byzantine: 2, selected: 5) == .multiKrum(byzantine: 2, selected: 5))
        #expect(StrategySpec(name: "multi-krum", byzantine: 2) == .multiKrum(byzantine: 2, selected: nil))
        #expect(StrategySpec(name: "bulyan", byzantine: 2) == .bulyan(byzantine: 2))
        #expect(StrategySpec(name: "norm-bound") == .normBound(multiple: 3, mode: .clip))
        #expect(StrategySpec(name: "norm-bound", normMultiple: 5, normMode: .drop) == .normBound(multiple: 5, mode: .drop))
        #expect(StrategySpec(name: "geometric-median") == nil)
        for name in StrategySpec.names {
            let spec = try #require(StrategySpec(name: name))
            #expect(spec.name == name)
            #expect(try JSONDecoder().decode(StrategySpec.self, from: JSONEncoder().encode(spec)) == spec)
            #expect(spec.needsIndividualUpdates == StrategySpec.robustNames.contains(name))
        }
        #expect(StrategySpec.bulyan(byzantine: 2).description == "Bulyan (f 2)")
        #expect(StrategySpec.multiKrum(byzantine: 2).description == "Multi-Krum (f 2, m n - f)")
    }

    @Test("impossible parameters are refused naming the parameter", arguments: [
        (StrategySpec.trimmedMean(beta: 0.5), nil, "trim_fraction"),
        (.trimmedMean(beta: -0.1), nil, "trim_fraction"),
        (.krum(byzantine: -1), nil, "byzantine"),
        (.krum(byzantine: 4), 10, "byzantine"),
        (.multiKrum(byzantine: 1, selected: 0), nil, "selected"),
        (.multiKrum(byzantine: 1, selected: 9), 8, "selected"),
        (.bulyan(byzantine: 4), 18, "byzantine"),
        (.normBound(multiple: 0.5, mode: .clip), nil, "norm_multiple"),
        (.normBound(multiple: .infinity, mode: .drop), nil, "norm_multiple"),
    ] as [(StrategySpec, Int?, String)])
    func validation(spec: StrategySpec, sites: Int?, key: String) {
        let e = #expect(throws: StrategySpecError.self) { try spec.validate(siteCount: sites) }
        #expect(e?.key == key)
    }

    @Test("workable parameters pass")
    func validParameters() throws {
        try StrategySpec.krum(byzantine: 4).validate(siteCount: 11)
        try StrategySpec.bulyan(byzantine: 4).validate(siteCount: 19)
        try StrategySpec.multiKrum(byzantine: 1, selected: 8).validate(siteCount: 8)
        try StrategySpec.trimmedMean(beta: 0).validate()
        try StrategySpec.median.validate(siteCount: 1)
    }

    @Test("job.yaml takes the robust rules and their keys, and refuses bad ones naming the key")
    func jobFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.yaml", "columns:\n  - {name: a, type: numeric}\n  - {name: label, type: binary, role: label}\n")
        func load(_ strategy: String, sites: String = "") throws -> JobSpec {
            try JobFile.load(try dir.write("job.yaml", "name: j\nschema: schema.yaml\n\(sites)strategy: \(strategy)\n"))
        }
        #expect(try load("{name: median}").strategy == .median)
        #expect(try load("{name: trimmed-mean, trim_fraction: 0.2}").strategy == .trimmedMean(beta: 0.2))
        #expect(try load("{name: multi-krum, byzantine: 2, selected: 6}").strategy == .multiKrum(byzantine: 2, selected: 6))
        #expect(try load("{name: norm-bound, norm_multiple: 4, norm_mode: drop}").strategy == .normBound(multiple: 4, mode: .drop))
        let mode = #expect(throws: JobSpecError.self) { try load("{name: norm-bound, norm_mode: shrink}") }
        #expect(mode?.key == "strategy.norm_mode")
        let beta = #expect(throws: JobSpecError.self) { try load("{name: trimmed-mean, trim_fraction: 0.7}") }
        #expect(beta?.key == "strategy.trim_fraction")
        let bulyan = #expect(throws: JobSpecError.self) {
            try load("{name: bulyan, byzantine: 1}", sites: "sites: [a, b, c, d, e, f]\n")
        }
        #expect(bulyan?.key == "strategy.byzantine")
        #expect(bulyan?.message.contains("n >= 4f + 3") == true)
    }
}
