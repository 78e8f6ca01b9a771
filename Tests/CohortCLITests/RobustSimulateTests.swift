import CohortTesting
import Foundation
import Testing

@Suite("cohort simulate --robust / --attack")
struct RobustSimulateTests {
    @Test("a robust rule under attack runs end to end and records the attackers' updates as excluded")
    func multiKrumUnderAttack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try CohortBinary.run([
            "simulate", "--sites", "20", "--model", "logistic", "--rounds", "2", "--local-steps", "5", "--robust", "multi-krum",
            "--attack", "scale", "--attackers", "4", "--no-baselines", "--out", dir.path("out").path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Multi-Krum (f 4, m n - f)"), "f defaults to --attackers")
        #expect(r.stdout.contains("attack: scale × 100.0 by 4 sites"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("out/metrics.json"))) as? [String: Any]
        let rounds = try #require(json?["rounds"] as? [[String: Any]])
        #expect(rounds.count == 2)
        for round in rounds {
            let failures = try #require(round["failures"] as? [[String: Any]])
            #expect(failures.count == 4 && failures.allSatisfy { $0["code"] as? String == "excluded" })
            #expect((round["aggregated"] as? [String])?.count == 16)
        }
    }

    @Test("impossible robust settings are refused before training", arguments: [
        (["--sites", "12", "--robust", "bulyan", "--byzantine", "3"], "n >= 4f + 3"),
        (["--robust", "trimmed-mean", "--trim-fraction", "0.6"], "--trim-fraction: must be in [0, 0.5)"),
        (["--robust", "norm-bound", "--norm-mode", "shrink"], "--norm-mode must be clip or drop"),
        (["--robust", "krum", "--strategy", "fedavgm"], "give --strategy or --robust, not both"),
        (["--attack", "sign-flip"], "--attack needs --attackers"),
        (["--attack", "bribe", "--attackers", "2"], "--attack must be one of sign-flip, scale, noise, label-flip"),
    ])
    func refused(arguments: [String], message: String) throws {
        let r = try CohortBinary.run(["simulate", "--no-baselines", "--rounds", "1"] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }
}
