import ArgumentParser
import CohortData
import CohortModel
import CohortPKI
import CohortPrivacy
import CohortRuntime
import CohortStore
import CohortTensor
import CohortWire
import Foundation

/// `cohort bench network`: seconds per round and coordinator peak memory over real processes on loopback, beside
/// Flower on the same workload (MLP 100 -> H -> 10, FedAvg, fit only).
struct NetworkBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Federated rounds over loopback with real processes (mutual TLS), optionally beside Flower (../shared/peers/flower).")

    @Option(help: "Numbers of sites.") var sites: String = "2,10,30"
    @Option(help: "Model sizes in parameters (MLP 100 -> H -> 10, H = (P - 10) / 111).") var params: String = "10000,1000000"
    @Option(help: "Rounds per run.") var rounds: Int = 5
    @Option(help: "Training samples per site (default: 64 below 100k parameters, else 32).") var samples: Int?
    @Flag(help: "Also run Flower's baseline (needs ../shared/peers/flower/venv; see its setup_venv.sh).") var flower = false
    @Option(help: "Directory of the Flower baseline scripts.") var flowerDir: String = "../shared/peers/flower"
    @Flag(help: "Instead: distributed DP rounds with SecAgg+ beside the same rounds without it (the cost of secure aggregation end to end).")
    var secagg = false
    @Option(help: "Instead: the same FedAvg rounds flat and through N regional aggregators (sites assigned round robin).")
    var regions: Int?

    func run() async throws {
        if self.secagg {
            try await self.runSecAgg()
            return
        }
        if let r = self.regions {
            guard r >= 1 else { throw ValidationError("--regions must be at least 1") }
            try await self.runRegions(r)
            return
        }
        try await self.table(header: "| sites | params | Cohort s/round (mean, excl. first) | Cohort coordinator peak RSS MiB | Flower s/round (mean, excl. first) | Flower server peak RSS MiB | speed-up | memory ratio |") { n, p, s in
            let ours = try await CohortNetworkRun(sites: n, params: p, rounds: self.rounds, samples: s).measure()
            var theirs: (round: Double, rss: Double)?
            if self.flower { theirs = self.runFlower(sites: n, params: p, samples: s) }
            let speed = theirs.map { String(format: "%.1fx", $0.round / ours.roundSeconds) } ?? "n/a"
            let mem = theirs.map { String(format: "%.1fx", $0.rss / ours.peakRSSMiB) } ?? "n/a"
            return "| \(n) | \(ours.parameters) | \(String(format: "%.3f", ours.roundSeconds)) | \(String(format: "%.0f", ours.peakRSSMiB)) | \(theirs.map { String(format: "%.3f", $0.round) } ?? "n/a") | \(theirs.map { String(format: "%.0f", $0.rss) } ?? "n/a") | \(speed) | \(mem) |"
        }
    }

    /// One Markdown row per (parameters, sites) configuration, each printed to standard error as it is measured and
    /// the whole table to standard output at the end. `row` gets the sites, parameters and samples per site.
    func table(header: String, row: (Int, Int, Int) async throws -> String) async throws {
        var rows = [header, "|" + String(repeating: "---|", count: header.filter { $0 == "|" }.count - 1)]
        for p in self.params.split(separator: ",").compactMap({ Int($0) }) {
            for n in self.sites.split(separator: ",").compactMap({ Int($0) }) {
                rows.append(try await row(n, p, self.samples ?? (p < 100_000 ? 64 : 32)))
                FileHandle.standardError.write(Data((rows.last! + "\n").utf8))
            }
        }
        print(rows.joined(separator: "\n"))
    }

    /// Distributed-DP rounds with and without secure aggregation on the same network, data and model.
    func runSecAgg() async throws {
        func privacy(_ secure: Bool) -> PrivacySettings {
            PrivacySettings(configuration: .distributed(noiseMultiplier: 0.5, clip: 1), delta: 1e-5, secureAggregation: secure)
        }
        try await self.table(header: "| sites | params | distributed DP s/round (mean, excl. first) | with SecAgg+ s/round | ratio |") { n, p, s in
            let plain = try await CohortNetworkRun(sites: n, params: p, rounds: self.rounds, samples: s, privacy: privacy(false)).measure()
            let secure = try await CohortNetworkRun(sites: n, params: p, rounds: self.rounds, samples: s, privacy: privacy(true)).measure()
            return "| \(n) | \(plain.parameters) | \(String(format: "%.3f", plain.roundSeconds)) | \(String(format: "%.3f", secure.roundSeconds)) | \(String(format: "%.2fx", secure.roundSeconds / plain.roundSeconds)) |"
        }
    }

    /// Flat rounds beside the same rounds through regional aggregators: time per round, and what the coordinator
    /// receives and holds.
    func runRegions(_ regions: Int) async throws {
        func mib(_ b: Double) -> String { String(format: "%.1f", b / 1_048_576) }
        try await self.table(header: "| sites | regions | params | flat s/round | two-tier s/round | ratio | flat coordinator MiB received/round | two-tier | flat coordinator peak RSS MiB | two-tier |") { n, p, s in
            let flat = try await CohortNetworkRun(sites: n, params: p, rounds: self.rounds, samples: s).measure()
            let tiers = try await CohortNetworkRun(sites: n, params: p, rounds: self.rounds, samples: s, regions: regions).measure()
            return "| \(n) | \(regions) | \(flat.parameters) | \(String(format: "%.3f", flat.roundSeconds)) | \(String(format: "%.3f", tiers.roundSeconds)) | \(String(format: "%.2fx", tiers.roundSeconds / flat.roundSeconds)) | \(mib(flat.bytesPerRound)) | \(mib(tiers.bytesPerRound)) | \(String(format: "%.0f", flat.peakRSSMiB)) | \(String(format: "%.0f", tiers.peakRSSMiB)) |"
        }
    }

    func runFlower(sites: Int, params: Int, samples: Int) -> (round: Double, rss: Double)? {
        let dir = URL(fileURLWithPath: self.flowerDir)
        let python = dir.appendingPathComponent("venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            FileHandle.standardError.write(Data("Flower venv missing: run \(dir.path)/setup_venv.sh\n".utf8))
            return nil
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-flower-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = python
        p.arguments = [dir.appendingPathComponent("flower_bench.py").path, "run", "--clients", String(sites), "--params", String(params),
                       "--rounds", String(self.rounds), "--samples", String(samples), "--outdir", out.path, "--timeout", "900"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? FileManager.default.removeItem(at: out)
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let round = (json["mean_round_excl_first_s"] as? Double) ?? (json["mean_round_s"] as? Double),
              let rss = json["server_peak_rss_mib"] as? Double
        else { return nil }
        return (round, rss)
    }
}

/// One measured run: a provisioned project in a temporary directory, a coordinator and N site processes.
struct CohortNetworkRun {
    let sites: Int
    let params: Int
    let rounds: Int
    let samples: Int
    var privacy: PrivacySettings? = nil
    /// Regional aggregators between the sites and the coordinator (0: flat).
    var regions = 0

    struct Result {
        var parameters: Int
        var roundSeconds: Double
        var peakRSSMiB: Double
        /// Update bytes the coordinator received per round (from its audit log).
        var bytesPerRound: Double
    }

    var hidden: Int { max(1, Int((Double(self.params - 10) / 111).rounded())) }

    func measure() async throws -> Result {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("cohort-netbench-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let port = Self.freePort()
        let names = (1...self.sites).map { String(format: "site-%03d", $0) }
        var project = "name: bench\ncoordinator: {name: coordinator, host: localhost, addresses: [127.0.0.1], port: \(port)}\nsites:\n"
        for n in names { project += "  - {name: \(n), organization: \(n)}\n" }
        project += "admins:\n  - {name: admin, organization: bench}\n"
        let regionNames = (0..<self.regions).map { "region-\($0 + 1)" }
        if !regionNames.isEmpty { project += "aggregators:\n" }
        for (r, region) in regionNames.enumerated() {
            let members = names.enumerated().filter { $0.offset % self.regions == r }.map(\.element)
            project += "  - {name: \(region), host: localhost, addresses: [127.0.0.1], port: \(Self.freePort()), sites: [\(members.joined(separator: ", "))]}\n"
        }
        try Data(project.utf8).write(to: dir.appendingPathComponent("project.yaml"))
        _ = try Provisioner().provision(projectFile: dir.appendingPathComponent("project.yaml"), workspace: dir.appendingPathComponent("ws"))
        let data = dir.appendingPathComponent("data")
        try fm.createDirectory(at: data, withIntermediateDirectories: true)
        let schema = try self.writeData(names, to: data)
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var env = ProcessInfo.processInfo.environment
        env["COHORT_LOG_LEVEL"] = "warning"
        func start(_ args: [String], log: String) throws -> Process {
            let p = Process()
            p.executableURL = binary
            p.arguments = args
            p.environment = env
            p.currentDirectoryURL = dir
            let h = try FileHandle(forWritingTo: { let u = dir.appendingPathComponent(log); fm.createFile(atPath: u.path, contents: nil); return u }())
            p.standardOutput = h
            p.standardError = h
            try p.run()
            return p
        }
        let coordinator = try start(["coordinator", "--kit", "ws/kits/coordinator", "--state", "cstate"], log: "coordinator.log")
        var processes = [coordinator]
        defer {
            for p in processes where p.isRunning { p.terminate() }
            for p in processes { p.waitUntilExit() }
        }
        for r in regionNames {
            processes.append(try start(["aggregator", "--kit", "ws/kits/\(r)", "--state", "state-\(r)"], log: "\(r).log"))
        }
        for n in names {
            processes.append(try start(["site", "--kit", "ws/kits/\(n)", "--data", "data", "--state", "state-\(n)"], log: "\(n).log"))
        }
        let members = regionNames.isEmpty ? names : regionNames
        let adminKit = dir.appendingPathComponent("ws/kits/admin").path
        // Wait for every site to connect.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let s = try? await AdminConnection.with(kit: adminKit, reportErrors: false, { try await $0.status() }),
               s.sites.filter(\.connected).count == members.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        var spec = JobSpec(name: "bench", sites: members, minimumSites: members.count, model: .mlp, hidden: [self.hidden], schemaYAML: schema,
                           standardize: .none, rounds: self.rounds,
                           training: .init(budget: .epochs(1), batchSize: 32, optimizer: .sgd(learningRate: 0.05)), seed: 1,
                           roundTimeoutSeconds: 600, evaluateEvery: 0, waitForSitesSeconds: 120)
        spec.testFraction = 0
        spec.privacy = self.privacy
        let job = spec
        let info = try await AdminConnection.with(kit: adminKit) { try await $0.submit(job) }
        while true {
            let d = try await AdminConnection.with(kit: adminKit) { try await $0.detail(info.id) }
            if ["finished", "failed", "cancelled"].contains(d.info.status) {
                guard d.info.status == "finished" else { throw ValidationError("benchmark job \(d.info.status): \(d.info.message)") }
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let rss = Self.peakRSSMiB(pid: coordinator.processIdentifier)
        let audit = try CoordinatorStore(directory: dir.appendingPathComponent("cstate")).audit.entries(from: 1, limit: 100_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let start = audit.first { $0.event == "job.sites" }.flatMap { formatter.date(from: $0.time) }
        let ends = audit.filter { $0.event == "round.completed" }.compactMap { formatter.date(from: $0.time) }
        guard let s = start, ends.count == self.rounds else { throw ValidationError("could not read round times from the audit log") }
        let bounds = [s] + ends
        let perRound = (0..<self.rounds).map { bounds[$0 + 1].timeIntervalSince(bounds[$0]) }
        let steady = perRound.count > 1 ? Array(perRound.dropFirst()) : perRound
        let received = audit.filter { $0.event == "update.received" }.compactMap { entry -> Double? in
            guard let payload = try? JSONSerialization.jsonObject(with: Data(entry.payload.utf8)) as? [String: Any] else { return nil }
            return (payload["bytes"] as? NSNumber)?.doubleValue
        }
        return Result(parameters: 100 * self.hidden + self.hidden + self.hidden * 10 + 10,
                      roundSeconds: steady.reduce(0, +) / Double(steady.count), peakRSSMiB: rss,
                      bytesPerRound: received.reduce(0, +) / Double(self.rounds))
    }

    /// Teacher-labelled Gaussian data as in Flower's benchmark: x ~ N(0, 1)^100, y = argmax(x T + 0.5 noise).
    func writeData(_ names: [String], to dir: URL) throws -> String {
        var teacherRng = RandomSource(seed: 7)
        let teacher = (0..<1000).map { _ in teacherRng.gaussian() }
        let header = (0..<100).map { "x\($0)" }.joined(separator: ",") + ",label\n"
        for (k, name) in names.enumerated() {
            var rng = RandomSource(seed: 1000 + UInt64(k))
            func rows(_ count: Int) -> String {
                var s = header
                for _ in 0..<count {
                    let x = (0..<100).map { _ in rng.gaussian() }
                    var best = 0, bestScore = -Double.infinity
                    for c in 0..<10 {
                        var z = 0.5 * rng.gaussian()
                        for j in 0..<100 { z += x[j] * teacher[j * 10 + c] }
                        if z > bestScore { bestScore = z; best = c }
                    }
                    s += x.map { String(format: "%.5f", $0) }.joined(separator: ",") + ",\(best)\n"
                }
                return s
            }
            try Data(rows(self.samples).utf8).write(to: dir.appendingPathComponent("\(name)_train.csv"))
            try Data(rows(4).utf8).write(to: dir.appendingPathComponent("\(name)_test.csv"))
        }
        var schema = "columns:\n"
        for j in 0..<100 { schema += "  - {name: x\(j), type: numeric}\n" }
        schema += "  - {name: label, type: categorical, role: label, categories: [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]}\n"
        return schema
    }

    static func peakRSSMiB(pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return .nan }
        return kib / 1024
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                _ = bind(fd, sp, len)
                _ = getsockname(fd, sp, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
