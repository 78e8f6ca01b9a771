import ArgumentParser
import CohortData
import CohortModel
import CohortRuntime
import CohortStrategy
import CohortTensor
import Foundation

/// `cohort bench`: performance benchmarks, each against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run performance benchmarks; each reports a ratio against a baseline measured in the same run.",
        discussion: "Results and the commands that produced them are kept in docs/performance.md.",
        subcommands: [GEMMBench.self, AggregateBench.self, TrainBench.self, SimulateBench.self, NetworkBench.self, AsyncBench.self,
                      CompressionBench.self, RobustBench.self, SecAggBench.self, AnalyticsBench.self, AllBench.self],
        defaultSubcommand: AllBench.self)
}

/// Timing helpers shared by the benchmarks.
enum Stopwatch {
    /// Best wall time of `repeats` runs, in seconds, after one warm-up run.
    static func best(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        let clock = ContinuousClock()
        for _ in 0..<max(1, repeats) {
            let t = clock.now
            try body()
            best = min(best, (clock.now - t).seconds)
        }
        return best
    }
}

/// Runs the NumPy baseline script and decodes its JSON.
enum NumpyBaseline {
    static var script: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let s = dir.appendingPathComponent("Benchmarks/python/numpy_baselines.py")
            if FileManager.default.fileExists(atPath: s.path) { return s }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "Benchmarks/python/numpy_baselines.py")
    }

    static func run(_ arguments: [String]) -> [String: Any]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.path] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}

struct GEMMBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "Square Float32 GEMM GFLOP/s against NumPy's matmul.")

    @Option(help: "Matrix sizes.") var sizes: String = "256,512,1024"
    @Option(help: "Timed repetitions (best is kept).") var repeats: Int = 5

    func run() async throws { print(Self.measure(sizes: sizes, repeats: repeats)) }

    static func measure(sizes: String, repeats: Int) -> String {
        let ns = sizes.split(separator: ",").compactMap { Int($0) }
        let numpy = NumpyBaseline.run(["gemm", "--sizes", sizes, "--repeats", String(repeats)])
        let np = numpy?["gflops"] as? [String: Double] ?? [:]
        var lines = ["| n | Cohort GFLOP/s | NumPy GFLOP/s | ratio |", "|---|---|---|---|"]
        for n in ns {
            var rng = RandomSource(seed: 1)
            let a = (0..<(n * n)).map { _ in Float(rng.gaussian()) }
            let b = (0..<(n * n)).map { _ in Float(rng.gaussian()) }
            var c = [Float](repeating: 0, count: n * n)
            let t = Stopwatch.best(repeats: repeats) {
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            GEMM.multiply(.none, .none, m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                          c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
            }
            let ours = 2 * pow(Double(n), 3) / t / 1e9
            let theirs = np[String(n)]
            lines.append("| \(n) | \(f1(ours)) | \(theirs.map(f1) ?? "n/a") | \(theirs.map { String(format: "%.2f", ours / $0) } ?? "n/a") |")
        }
        if numpy == nil { lines.append("(NumPy baseline unavailable: python3 with numpy is needed)") }
        return lines.joined(separator: "\n")
    }
}

struct AggregateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "aggregate", abstract: "FedAvg aggregation throughput against a memory copy of the same bytes.")

    @Option(help: "Parameters per update.") var params: Int = 1_000_000
    @Option(help: "Updates per round.") var sites: Int = 30
    @Option(help: "Timed repetitions (best is kept).") var repeats: Int = 5

    func run() async throws { print(Self.measure(params: params, sites: sites, repeats: repeats)) }

    static func measure(params: Int, sites: Int, repeats: Int) -> String {
        var rng = RandomSource(seed: 2)
        let updates = (0..<sites).map { _ in (0..<params).map { _ in Float(rng.gaussian() * 0.01) } }
        let weights = (0..<sites).map { _ in Double(100 + rng.uniformInt(below: 5000)) }
        let bytes = Double(sites * params * 4)
        var sink = [Float](repeating: 0, count: params)
        let copy = Stopwatch.best(repeats: repeats) {
            for u in updates {
                u.withUnsafeBytes { src in sink.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
            }
        }
        var exactAcc = ExactAccumulator(count: params)
        let exact = Stopwatch.best(repeats: repeats) {
            exactAcc = ExactAccumulator(count: params)
            for (u, w) in zip(updates, weights) { try! exactAcc.add(u, weight: w) }
        }
        var floatAcc = [Float](repeating: 0, count: params)
        let naive = Stopwatch.best(repeats: repeats) {
            for i in floatAcc.indices { floatAcc[i] = 0 }
            for (u, w) in zip(updates, weights) { floatAcc.addScaled(u, by: Float(w)) }
        }
        func gbs(_ t: Double) -> String { String(format: "%.1f", bytes / t / 1e9) }
        return """
            | \(sites) updates x \(params) params | GB/s of updates | ratio to memcpy |
            |---|---|---|
            | memory copy (baseline) | \(gbs(copy)) | 1.00 |
            | exact FedAvg accumulation (Cohort) | \(gbs(exact)) | \(String(format: "%.2f", copy / exact)) |
            | plain Float32 axpy (not order-independent) | \(gbs(naive)) | \(String(format: "%.2f", copy / naive)) |
            """
    }
}

struct TrainBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Local training samples/s against an equivalent NumPy loop.")

    @Option(help: "Examples.") var n: Int = 20_000
    @Option(help: "Features.") var d: Int = 100
    @Option(help: "Epochs.") var epochs: Int = 3

    func run() async throws { print(try Self.measure(n: n, d: d, epochs: epochs)) }

    static func measure(n: Int, d: Int, epochs: Int) throws -> String {
        var rng = RandomSource(seed: 3)
        var x = [Float](), y = [Int32]()
        let w = (0..<d).map { _ in rng.gaussian() }
        for _ in 0..<n {
            var z = 0.0
            for j in 0..<d {
                let v = rng.gaussian()
                x.append(Float(v))
                z += v * w[j]
            }
            y.append(z + rng.gaussian() > 0 ? 1 : 0)
        }
        let data = ExampleSet(features: x, featureCount: d, labels: y, classCount: 2)
        var lines = ["| model | batch | Cohort samples/s | NumPy samples/s | ratio |", "|---|---|---|---|---|"]
        for (kind, hidden) in [(ModelSpec.Kind.logistic, [Int]()), (.mlp, [64, 32])] {
            let net = try DenseNetwork(ModelSpec(kind: kind, inputCount: d, classCount: 2, hidden: hidden))
            var initRng = RandomSource(seed: 4)
            let start = net.initialParameters(rng: &initRng)
            let config = TrainingConfig(budget: .epochs(epochs), batchSize: 32, optimizer: .sgd(learningRate: 0.05))
            let t = Stopwatch.best(repeats: 3) {
                var p = start
                var r = RandomSource(seed: 5)
                Trainer.train(net, parameters: &p, on: data, config: config, rng: &r)
            }
            let ours = Double(n * epochs) / t
            let np = NumpyBaseline.run(["train", "--model", kind.rawValue, "--n", String(n), "--d", String(d),
                                        "--hidden", "64,32", "--batch", "32", "--epochs", String(epochs)])?["samples_per_second"] as? Double
            let name = kind == .mlp ? "MLP \(d)-64-32-1" : "logistic \(d)"
            lines.append("| \(name) | 32 | \(Int(ours)) | \(np.map { String(Int($0)) } ?? "n/a") | \(np.map { String(format: "%.1f", ours / $0) } ?? "n/a") |")
        }
        return lines.joined(separator: "\n")
    }
}

struct SimulateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Simulation seconds per round for 47 and 1,000 virtual sites.")

    @Option(help: "Rounds to time.") var rounds: Int = 5

    func run() async throws { print(try await Self.measure(rounds: rounds)) }

    static func measure(rounds: Int) async throws -> String {
        let base = try FederationLoader.synthetic(seed: 42, hospitals: 47)
        var rng = RandomSource(seed: 42).derived("partition")
        let thousand = base.repartitioned(.iid, sites: 1000, rng: &rng)
        var lines = ["| virtual sites | rows | model | s/round | sites/s |", "|---|---|---|---|---|"]
        for (name, fed) in [("47 hospitals", base), ("1,000 sites (same rows, IID)", thousand)] {
            for (kind, hidden) in [(ModelSpec.Kind.logistic, [Int]()), (.mlp, [64, 32])] {
                var settings = RunSettings(rounds: rounds, training: TrainingConfig(budget: .epochs(1), batchSize: 32, optimizer: .sgd(learningRate: 0.1)), seed: 42)
                settings.evaluateEvery = 1
                let r = try await Simulation.run(federation: fed, config: SimulationConfig(
                    model: kind, hidden: hidden, settings: settings, baselines: false))
                let perRound = r.federatedSeconds / Double(rounds)
                let rows = r.sites.reduce(0) { $0 + $1.trainCount }
                lines.append("| \(name) | \(rows) | \(kind == .mlp ? "MLP 64-32" : "logistic") | \(String(format: "%.3f", perRound)) | \(Int(Double(fed.sites.count) / perRound)) |")
            }
        }
        return lines.joined(separator: "\n") + "\n(each round: local training at every site, aggregation, and evaluation of the new model at every site)"
    }
}

struct AllBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every benchmark and print Markdown tables.")

    func run() async throws {
        print("## GEMM\n" + GEMMBench.measure(sizes: "256,512,1024", repeats: 5))
        print("\n## Aggregation\n" + AggregateBench.measure(params: 1_000_000, sites: 30, repeats: 5))
        print("\n## Local training\n" + (try TrainBench.measure(n: 20_000, d: 100, epochs: 3)))
        print("\n## Simulation\n" + (try await SimulateBench.measure(rounds: 5)))
    }
}

func f1(_ v: Double) -> String { String(format: "%.1f", v) }
