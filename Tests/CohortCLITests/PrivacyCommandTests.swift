import Foundation
import Testing

@Suite("cohort privacy")
struct PrivacyCommandTests {
    static func object(_ output: CohortBinary.Output) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return try #require(object, "stdout is not a JSON object: \(output.stdout)")
    }

    @Test("epsilon --json reproduces dp-accounting's σ = 1.1, q = 0.01, T = 1000, δ = 1e-5 (ε 1.711770 at α 9.6)")
    func epsilon() throws {
        let r = try CohortBinary.run([
            "privacy", "epsilon", "--noise-multiplier", "1.1", "--sampling-rate", "0.01", "--steps", "1000",
            "--delta", "1e-5", "--json",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try Self.object(r)
        let epsilon = try #require(o["epsilon"] as? Double)
        #expect(abs(epsilon - 1.711770) < 1e-6)
        #expect(o["order"] as? Double == 9.6)
        #expect(o["delta"] as? Double == 1e-5)
        #expect(o["noise_multiplier"] as? Double == 1.1)
        #expect(o["sampling_rate"] as? Double == 0.01)
        #expect(o["steps"] as? Int == 1000)
    }

    @Test("epsilon --orders integer reproduces the integer-order vector (ε 7.506124909 at α 4)")
    func integerOrders() throws {
        let r = try CohortBinary.run([
            "privacy", "epsilon", "--noise-multiplier", "1.3", "--sampling-rate", "0.2", "--steps", "50",
            "--delta", "1e-5", "--orders", "integer", "--json",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try Self.object(r)
        let epsilon = try #require(o["epsilon"] as? Double)
        #expect(abs(epsilon - 7.506124909) < 1e-6 * 7.5)
        #expect(o["order"] as? Double == 4)
    }

    @Test("calibrate --json finds σ = 0.8 for ε 12.358541 (q = 0.1, T = 100) and reports the achieved ε")
    func calibrate() throws {
        let r = try CohortBinary.run([
            "privacy", "calibrate", "--epsilon", "12.358541", "--sampling-rate", "0.1", "--steps", "100",
            "--delta", "1e-5", "--json",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try Self.object(r)
        let sigma = try #require(o["noise_multiplier"] as? Double)
        let achieved = try #require(o["achieved_epsilon"] as? Double)
        #expect(abs(sigma - 0.8) < 1e-5)
        #expect(achieved <= 12.358541 && achieved > 12.3585)
        #expect(o["epsilon"] as? Double == 12.358541)
        #expect(o["order"] as? Double == 2.4)
        #expect(o["steps"] as? Int == 100)
    }

    @Test("text output names epsilon, delta and the order")
    func text() throws {
        let r = try CohortBinary.run([
            "privacy", "epsilon", "--noise-multiplier", "1.0", "--sampling-rate", "1", "--steps", "10", "--delta", "1e-5",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("epsilon = 19.053598 at delta = 1e-05 (optimal RDP order 2.5)"))
    }

    @Test("bad arguments fail with a message naming the option",
          arguments: [
            (["privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "1.5", "--steps", "10", "--delta", "1e-5"], "--sampling-rate"),
            (["privacy", "epsilon", "--noise-multiplier", "0", "--sampling-rate", "0.1", "--steps", "10", "--delta", "1e-5"], "--noise-multiplier"),
            (["privacy", "calibrate", "--epsilon", "1", "--sampling-rate", "0.1", "--steps", "0", "--delta", "1e-5"], "--steps"),
            (["privacy", "calibrate", "--epsilon", "1", "--sampling-rate", "0.1", "--steps", "10", "--delta", "2"], "--delta"),
            (["privacy", "calibrate", "--epsilon", "-1", "--sampling-rate", "0.1", "--steps", "10", "--delta", "1e-5"], "--epsilon"),
            (["privacy", "calibrate", "--epsilon", "1e-6", "--sampling-rate", "1", "--steps", "1000", "--delta", "1e-5"], "unreachable"),
          ])
    func badArguments(arguments: [String], expected: String) throws {
        let r = try CohortBinary.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(expected), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
