import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import CohortTesting
import Foundation
import Testing

/// A provisioned project on 127.0.0.1: workspace with kits, synthetic data, and helpers to run the real binaries.
final class LoopbackFederation: @unchecked Sendable {  // used from one test task at a time
    let dir: TemporaryDirectory
    let port: Int
    let sites: [String]
    /// Regional aggregators (name -> its sites), assigned as the simulation's `--regions` assigns them.
    let regions: [String: [String]]
    var children: [Child] = []

    init(sites count: Int = 3, regions regionCount: Int = 0, seed: UInt64 = 7) async throws {
        self.dir = try TemporaryDirectory(prefix: "cohort-e2e")
        self.port = freePort()
        self.sites = (1...count).map { String(format: "hospital-%02d", $0) }
        var regions = [String: [String]]()
        if regionCount > 0 {
            for (i, s) in self.sites.sorted().enumerated() { regions["region-\(i % regionCount + 1)", default: []].append(s) }
        }
        self.regions = regions
        var project = """
            name: e2e-test
            coordinator:
              name: coordinator
              host: localhost
              addresses: [127.0.0.1]
              port: \(self.port)
            sites:

            """
        for s in self.sites { project += "  - {name: \(s), organization: \"\(s) org\"}\n" }
        project += "admins:\n  - {name: admin, organization: Research Centre}\n"
        if !regions.isEmpty { project += "aggregators:\n" }
        for (name, sites) in regions.sorted(by: { $0.key < $1.key }) {
            project += "  - {name: \(name), host: localhost, addresses: [127.0.0.1], port: \(freePort()), sites: [\(sites.joined(separator: ", "))]}\n"
        }
        try self.dir.write("project.yaml", project)
        try self.run(["provision", "project.yaml", "--out", "ws"])
        try self.run(["generate", "--sites", String(count), "--seed", String(seed), "--out", "data"])
    }

    /// Runs the binary to completion and requires success.
    @discardableResult
    func run(_ arguments: [String]) throws -> CohortBinary.Output {
        let r = try CohortBinary.run(arguments, in: self.dir.url)
        if r.status != 0 { Issue.record("cohort \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r
    }

    func kit(_ name: String) -> String { "ws/kits/\(name)" }

    func startCoordinator(state: String = "coordinator-state") async throws -> Child {
        let c = try Child(name: "coordinator-\(self.children.count)", arguments: ["coordinator", "--kit", self.kit("coordinator"), "--state", state],
                          directory: self.dir)
        self.children.append(c)
        try await c.waitFor("listening on port", timeout: 60)
        return c
    }

    func startAggregator(_ name: String) async throws -> Child {
        let c = try Child(name: name, arguments: ["aggregator", "--kit", self.kit(name), "--state", "state-\(name)"], directory: self.dir)
        self.children.append(c)
        try await c.waitFor("listening on port", timeout: 60)
        return c
    }

    func startSite(_ name: String, data: String = "data") throws -> Child {
        let c = try Child(name: name, arguments: ["site", "--kit", self.kit(name), "--data", data, "--state", "state-\(name)"], directory: self.dir)
        self.children.append(c)
        return c
    }

    func writeJob(_ name: String, rounds: Int, minSites: Int? = nil, sites: [String]? = nil, extra: String = "") throws -> String {
        let names = sites ?? self.sites
        let yaml = """
            name: \(name)
            sites: [\(names.joined(separator: ", "))]
            min_sites: \(minSites ?? names.count)
            schema: data/schema.yaml
            model: {kind: mlp, hidden: [16], activation: relu}
            rounds: \(rounds)
            training: {local_epochs: 1, batch_size: 32, optimizer: sgd, learning_rate: 0.1}
            seed: 11
            round_timeout_seconds: 120
            wait_for_sites_seconds: 60
            \(extra)
            """
        try self.dir.write("\(name).yaml", yaml)
        return "\(name).yaml"
    }

    func submit(_ file: String) throws -> String {
        let r = try self.run(["job", "submit", file, "--kit", self.kit("admin"), "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try #require(json?["id"] as? String, "job submit printed \(r.stdout)")
    }

    func status(_ id: String) throws -> [String: Any] {
        let r = try CohortBinary.run(["job", "status", id, "--kit", self.kit("admin"), "--json"], in: self.dir.url)
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls the job until `predicate` holds; fails after `timeout` seconds.
    func waitForJob(_ id: String, timeout: Double = 240, until predicate: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try self.status(id)
            if predicate(last) { return last }
            try await Task.sleep(for: .milliseconds(300))
        }
        let logs = self.children.map { c in "--- \(c.name):\n" + String(c.stderr.suffix(2000)) }.joined(separator: "\n")
        Issue.record("job \(id) did not reach the expected state in \(timeout) s; last: \(last)\n\(logs)")
        throw HarnessError.timeout(id)
    }

    /// Waits until `cohort status` lists every given site as connected.
    func waitForSites(_ sites: [String], timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let r = try CohortBinary.run(["status", "--kit", self.kit("admin")], in: self.dir.url)
            let connected = r.stdout.split(separator: "\n").filter { $0.contains(" connected ") }
            if sites.allSatisfy({ s in connected.contains { $0.contains(s) } }) { return }
            try await Task.sleep(for: .milliseconds(300))
        }
        throw HarnessError.timeout("sites \(sites) did not connect")
    }

    /// Downloads a job's model through `cohort job download` and reads the safetensors file.
    func download(_ id: String) throws -> [Float] {
        try self.run(["job", "download", id, "--kit", self.kit("admin"), "--out", "download-\(id)"])
        let bytes = [UInt8](try Data(contentsOf: self.dir.path("download-\(id)/model.safetensors")))
        return try Safetensors.decode(bytes).tensors.flatMap(\.tensor.scalars)
    }

    /// The same job run as an in-process simulation on the same files: the model it must equal, bit for bit.
    ///
    /// - Parameter dropped: Sites that drop out of a round (by round), as they did on the network.
    func simulate(_ jobFile: String, dropped: [Int: Set<String>] = [:]) async throws -> [Float] {
        let spec = try JobFile.load(self.dir.path(jobFile))
        let federation = try FederationLoader.directory(self.dir.path("data"), options: .init(
            schemaURL: self.dir.path("data/schema.yaml"), testFraction: spec.testFraction, seed: spec.seed))
        let network = try DenseNetwork(try spec.modelSpec())
        let global = spec.standardize == .global ? try await Simulation.globalStatistics(federation) : nil
        let encoded = federation.encoded(standardize: spec.standardize, globalStatistics: global).sites
        let executors = encoded.map { SiteExecutor(name: $0.name, network: network, train: $0.train, test: $0.test) }
        let (_, final) = try await Simulation.federate(
            config: spec.simulationConfig, initial: try spec.initialModel(),
            sites: executors.map { SiteInfo(name: $0.name, trainCount: $0.trainingData.count) },
            connector: ScriptedDropouts(base: InProcessSites(executors: executors, seed: spec.seed), dropped: dropped))
        return final.global.flat
    }

    /// Sets a key in every site's `site.yaml` policy.
    func setSitePolicy(_ key: String, _ value: String, sites: [String]? = nil) throws {
        for site in sites ?? self.sites {
            let path = "\(self.kit(site))/site.yaml"
            var lines = try String(contentsOf: self.dir.path(path), encoding: .utf8).components(separatedBy: "\n")
            lines.removeAll { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):") }
            let i = try #require(lines.firstIndex { $0.hasPrefix("policy:") }, "\(path) has no policy section")
            lines.insert("  \(key): \(value)", at: i + 1)
            try self.dir.write(path, lines.joined(separator: "\n"))
        }
    }

    func stopAll() {
        for c in self.children { c.stop() }
    }

    deinit {
        self.stopAll()
        self.dir.remove()
    }
}

/// A connector whose given sites drop out of given rounds (to replay on the simulation what happened on a network).
struct ScriptedDropouts<Base: SiteConnector>: SiteConnector {
    let base: Base
    let dropped: [Int: Set<String>]

    func train<A: UpdateAggregator>(_ plan: RoundPlan, global: ModelParameters, aggregator: inout A) async -> [SiteFailure] {
        let gone = self.dropped[plan.round] ?? []
        var remaining = plan
        remaining.participants.removeAll { gone.contains($0) }
        return await self.base.train(remaining, global: global, aggregator: &aggregator)
            + gone.sorted().map { SiteFailure(site: $0, code: .dropped, message: "dropped out") }
    }

    func evaluate(round: Int, sites: [String], global: ModelParameters) async -> (results: [SiteEvaluation], failures: [SiteFailure]) {
        await self.base.evaluate(round: round, sites: sites, global: global)
    }
}
