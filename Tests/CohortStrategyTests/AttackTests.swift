import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Testing

@Suite("Simulated attacks")
struct AttackTests {
    @Test("attackers are drawn from the seed alone, whatever order the sites are listed in")
    func chooseAttackers() {
        let sites = (1...20).map { "hospital-\($0 < 10 ? "0" : "")\($0)" }
        let spec = AttackSpec(kind: .signFlip, attackers: 4)
        let a = spec.chooseAttackers(among: sites, seed: 42)
        #expect(a.count == 4 && Set(a).isSubset(of: sites) && a == a.sorted())
        #expect(spec.chooseAttackers(among: sites.reversed(), seed: 42) == a)
        #expect((1...5).map { spec.chooseAttackers(among: sites, seed: $0) }.contains { $0 != a })
        #expect(AttackSpec(kind: .noise, attackers: 30).chooseAttackers(among: sites, seed: 1).count == 20)
    }

    @Test("sign flip, scaling and noise replace the update; label flipping trains on flipped labels")
    func tampering() {
        let delta: [Float] = [0.5, -1, 2]
        #expect(AttackSpec(kind: .signFlip, attackers: 1).tamper(delta, site: "s", round: 1, seed: 1) == [-2, 4, -8])
        #expect(AttackSpec(kind: .signFlip, attackers: 1, magnitude: 1).tamper(delta, site: "s", round: 1, seed: 1) == [-0.5, 1, -2])
        #expect(AttackSpec(kind: .scale, attackers: 1).tamper(delta, site: "s", round: 1, seed: 1) == [50, -100, 200])
        #expect(AttackSpec(kind: .labelFlip, attackers: 1).tamper(delta, site: "s", round: 1, seed: 1) == delta)
        let noise = AttackSpec(kind: .noise, attackers: 1)
        let big = [Float](repeating: 0, count: 20_000)
        let n1 = noise.tamper(big, site: "s", round: 1, seed: 1)
        #expect(n1 == noise.tamper(big, site: "s", round: 1, seed: 1))
        #expect(n1 != noise.tamper(big, site: "s", round: 2, seed: 1))
        #expect(n1 != noise.tamper(big, site: "t", round: 1, seed: 1))
        let sd = (n1.l2Norm * n1.l2Norm / Double(n1.count)).squareRoot()
        #expect(abs(sd - 10) < 0.2, "standard deviation \(sd)")
        let data = ExampleSet(features: [1, 2, 3], featureCount: 1, labels: [0, 1, 1], classCount: 2)
        #expect(AttackSpec.flippingLabels(data).labels == [1, 0, 0])
        let three = ExampleSet(features: [1, 2, 3], featureCount: 1, labels: [0, 1, 2], classCount: 3)
        #expect(AttackSpec.flippingLabels(three).labels == [2, 1, 0])
    }

    @Test("AttackingSites hands the aggregator the attackers' tampered updates and the others' as they are")
    func connector() async throws {
        let sites = ToyFederation.sites(sizes: [40, 60, 50], features: 3, seed: 4)
        let net = try DenseNetwork(ModelSpec(kind: .logistic, inputCount: 3, classCount: 2))
        let plain = InProcessSites(executors: ToyFederation.executors(sites, network: net), seed: 1)
        let attacking = AttackingSites(base: plain, attack: AttackSpec(kind: .scale, attackers: 1), attackers: ["site-2"], seed: 1)
        let plan = Rounds.plan(sites.map(\.name))
        let global = ModelParameters(zeros: net.layout)
        var honest = BufferedAggregator(parameterCount: global.count, expectedSites: Set(plan.participants))
        var attacked = honest
        #expect(await plain.train(plan, global: global, aggregator: &honest).isEmpty)
        #expect(await attacking.train(plan, global: global, aggregator: &attacked).isEmpty)
        let h = Dictionary(uniqueKeysWithValues: honest.updates.map { ($0.site, $0.delta) })
        let a = Dictionary(uniqueKeysWithValues: attacked.updates.map { ($0.site, $0.delta) })
        #expect(a["site-1"] == h["site-1"] && a["site-3"] == h["site-3"])
        #expect(a["site-2"] == h["site-2"]!.map { $0 * 100 })
        #expect(h["site-2"]!.l2Norm > 0)
    }
}
