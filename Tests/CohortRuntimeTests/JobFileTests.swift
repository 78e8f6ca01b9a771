import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTesting
import Foundation
import Testing

@Suite("job.yaml")
struct JobFileTests {
    static let schema = "columns:\n  - {name: a, type: numeric}\n  - {name: label, type: binary, role: label}\n"

    func load(_ yaml: String) throws -> JobSpec {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("schema.yaml", Self.schema)
        return try JobFile.load(try dir.write("job.yaml", yaml))
    }

    @Test("a complete file becomes the job it describes")
    func valid() throws {
        let spec = try load("""
            name: j
            sites: [a, b, c]
            min_sites: 2
            schema: schema.yaml
            model: {kind: mlp, hidden: [8, 4], activation: tanh}
            strategy: {name: fedavgm, server_learning_rate: 0.5, momentum: 0.8}
            rounds: 7
            training: {local_steps: 25, batch_size: 16, optimizer: adam, learning_rate: 0.01, l2: 0.001}
            standardize: none
            seed: 9
            stop: {metric: auc, value: 0.9}
            """)
        #expect(spec.sites == ["a", "b", "c"] && spec.minimumSites == 2 && spec.rounds == 7 && spec.seed == 9)
        #expect(spec.hidden == [8, 4] && spec.activation == .tanh)
        #expect(spec.strategy == .fedAvgM(serverLearningRate: 0.5, momentum: 0.8))
        #expect(spec.training.budget == .steps(25) && spec.training.batchSize == 16 && spec.training.loss.l2 == 0.001)
        #expect(spec.stop?.value == 0.9)
        #expect(spec.schemaYAML == Self.schema)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var key: String
        var testDescription: String { self.key }
    }

    static let bad: [Bad] = [
        Bad(yaml: "name: j\nschema: schema.yaml\nrounds: many\n", key: "rounds"),
        Bad(yaml: "name: j\nschema: schema.yaml\nmodel: {kind: forest}\n", key: "model.kind"),
        Bad(yaml: "name: j\nschema: schema.yaml\nstrategy: {name: magic}\n", key: "strategy.name"),
        Bad(yaml: "name: j\nschema: schema.yaml\ntraining: {optimizer: lbfgs}\n", key: "training.optimizer"),
        Bad(yaml: "name: j\nschema: missing.yaml\n", key: "schema"),
        Bad(yaml: "schema: schema.yaml\n", key: "name"),
        Bad(yaml: "name: j\nschema: schema.yaml\nrounds: 0\n", key: "rounds"),
        Bad(yaml: "name: j\nschema: schema.yaml\nsites: [a]\nmin_sites: 3\n", key: "min_sites"),
        Bad(yaml: "name: j\nschema: schema.yaml\nstandardize: sometimes\n", key: "standardize"),
        Bad(yaml: "name: j\nschema: schema.yaml\nasync: {mode: fedsometimes}\n", key: "async.mode"),
        Bad(yaml: "name: j\nschema: schema.yaml\nasync: {mode: fedbuff, buffer: 0}\n", key: "async.buffer"),
        Bad(yaml: "name: j\nschema: schema.yaml\nstop: {metric: speed, value: 1}\n", key: "stop.metric"),
    ]

    @Test("a bad file gives an error naming the file and the key", arguments: bad)
    func invalid(c: Bad) throws {
        do {
            _ = try load(c.yaml)
            Issue.record("expected an error for \(c.key)")
        } catch let e as JobSpecError {
            #expect(e.key == c.key, "\(e)")
            #expect(e.file?.hasSuffix("job.yaml") == true)
            #expect(e.description.contains(c.key))
        }
    }
}
