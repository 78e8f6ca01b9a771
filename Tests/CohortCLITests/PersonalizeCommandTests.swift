import CohortTesting
import Foundation
import Testing

@Suite("cohort simulate --personal-layers / --fine-tune-epochs")
struct PersonalizeCommandTests {
    @Test("prints the per-site global vs personalised table and the summary line")
    func runs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try CohortBinary.run(["simulate", "--sites", "4", "--rounds", "2", "--personal-layers", "1", "--fine-tune-epochs", "1",
                                      "--no-baselines", "--out", dir.path("out").path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("personal layers: layers.2.weight, layers.2.bias"))
        #expect(r.stdout.contains("Personalised (personal head + fine-tuned) vs global: "))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.path("out/metrics.json"))) as! [String: Any]
        #expect((json["personalization"] as? [String: Any])?["local_layers"] as? Int == 1)
    }

    @Test("bad values are refused before training, naming the option and the fix")
    func refused() throws {
        let tooMany = try CohortBinary.run(["simulate", "--sites", "3", "--rounds", "1", "--personal-layers", "3"])
        #expect(tooMany.status != 0)
        #expect(tooMany.stderr.contains("--personal-layers: is 3 but the model has 3 layers and at least one must be shared; use at most 2"))
        let linear = try CohortBinary.run(["simulate", "--sites", "3", "--rounds", "1", "--model", "logistic", "--personal-layers", "1"])
        #expect(linear.status != 0)
        #expect(linear.stderr.contains("use an mlp with hidden layers, or fine-tuning alone"))
        let negative = try CohortBinary.run(["simulate", "--sites", "3", "--rounds", "1", "--fine-tune-epochs=-1"])
        #expect(negative.status != 0)
        #expect(negative.stderr.contains("--fine-tune-epochs: must be 0 (no fine-tuning) or positive"))
        let scaffold = try CohortBinary.run(["simulate", "--sites", "3", "--rounds", "1", "--strategy", "scaffold", "--personal-layers", "1"])
        #expect(scaffold.status != 0)
        #expect(scaffold.stderr.contains("--personal-layers: does not combine with SCAFFOLD"))
        let regions = try CohortBinary.run(["simulate", "--sites", "4", "--rounds", "1", "--regions", "2", "--personal-layers", "1"])
        #expect(regions.status != 0)
        #expect(regions.stderr.contains("--personal-layers does not combine with --regions yet"))
    }

    @Test("job submit refuses personalization: the network does not carry it yet")
    func submitRefuses() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.yaml", "columns:\n  - {name: a, type: numeric}\n  - {name: label, type: binary, role: label}\n")
        let job = try dir.write("job.yaml", "name: j\nschema: schema.yaml\npersonalization: {local_layers: 1}\n")
        let r = try CohortBinary.run(["job", "submit", job.path, "--kit", dir.path("no-kit").path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("personalization: runs in simulation only for now"))
    }
}
