import ArgumentParser
import CohortSecAgg
import CohortTensor
import Foundation

/// `cohort bench secagg`: the cost of a SecAgg+ round beside plain (unmasked) aggregation of the same vectors.
struct SecAggBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "SecAgg+ round cost (site and coordinator CPU, bytes) beside plain exact aggregation.",
        discussion: """
            Each row simulates one full round in-process (every site's and the coordinator's state machine, run one \
            after another on one thread) and reports CPU time in each party's code, so other load on the machine does \
            not inflate it. Dropouts happen after ShareKeys (the costliest point: the coordinator must reconstruct \
            the dropped sites' mask keys and remove their pairwise masks); the dropped sites are drawn at random \
            among sets that leave every neighbourhood at its threshold. Inputs are Gaussian (sd 0.01) with weights \
            100...5099; the encoding (clip 1, 11 fraction bits, weights up to 8192) fits a 32-bit modulus for up to \
            127 sites. The plain baseline is the coordinator's exact weighted sum (ExactAccumulator) of the same \
            surviving vectors, as process CPU time (it may use both cores); plain bytes are 4 per parameter.
            """)

    @Option(help: "Comma-separated site counts.") var sites: String = "10,50,100"
    @Option(help: "Comma-separated parameter counts.") var params: String = "10000,100000,1000000"
    @Option(help: "Comma-separated dropout fractions (after ShareKeys).") var dropout: String = "0,0.3"
    @Option(help: "Neighbours per site: 'auto' (SecAgg+ default, min(n-1, 2*ceil(1.5*log2 n))) or 'complete' (original SecAgg).")
    var neighbours: String = "auto"
    @Option(help: "Seed for inputs, keys and dropouts.") var seed: UInt64 = 1

    func run() async throws {
        let ns = self.sites.split(separator: ",").compactMap { Int($0) }
        let ds = self.params.split(separator: ",").compactMap { Int($0) }
        let fractions = self.dropout.split(separator: ",").compactMap { Double($0) }
        print(Self.header)
        for n in ns {
            for d in ds {
                for f in fractions {
                    print(try Self.measure(n: n, d: d, dropout: f, complete: self.neighbours == "complete", seed: self.seed))
                }
            }
        }
    }

    static let header = """
        | sites | params | k | t | dropout | site CPU ms (mean) | coordinator CPU ms | plain coordinator ms | coordinator / plain | site + coordinator / plain | KB sent per site (plain) | MB received by coordinator (plain) |
        |---|---|---|---|---|---|---|---|---|---|---|---|
        """

    static func measure(n: Int, d: Int, dropout: Double, complete: Bool, seed: UInt64) throws -> String {
        let ids = (0..<n).map { String(format: "site-%03d", $0) }
        let config = SecAggConfiguration(
            participants: ids, neighbourhoodSize: complete ? n - 1 : nil, graphSeed: seed, vectorLength: d,
            encoding: FixedPointEncoding(clipRange: 1, scaleBits: 11, maxWeight: 8192), appendsWeight: true,
            sessionID: "bench")
        var rng = RandomSource(seed: seed)
        let inputs = (0..<n).map { _ in (0..<d).map { _ in Float(rng.gaussian() * 0.01) } }
        let weights = (0..<n).map { _ in Double(100 + rng.uniformInt(below: 5000)) }
        let dropped = SecAggSimulation.tolerableDropouts(configuration: config, fraction: dropout, seed: seed)
        let report = try SecAggSimulation.run(
            configuration: config, inputs: inputs, weights: weights, dropouts: [.maskedInputCollection: dropped], seed: seed)
        guard let result = report.result else {
            return "| \(n) | \(d) | \(config.neighbourhoodSize) | \(config.threshold) | \(dropout) | aborted: \(report.abortReason?.message ?? "?") |"
        }
        // Plain aggregation of the same surviving vectors, as the coordinator does without SecAgg.
        let survivors = result.survivors.compactMap { ids.firstIndex(of: $0) }
        var plainSeconds = Double.infinity
        for _ in 0..<3 {
            let start = ThreadCPUClock.processNow()
            var acc = ExactAccumulator(count: d)
            for u in survivors { try acc.add(inputs[u], weight: weights[u]) }
            plainSeconds = min(plainSeconds, ThreadCPUClock.processNow() - start)
        }
        let siteSeconds = survivors.map { report.clientCPUSeconds[ids[$0]] ?? 0 }.reduce(0, +) / Double(survivors.count)
        let sentPerSite = Double(survivors.map { report.bytesSent[ids[$0]] ?? 0 }.reduce(0, +)) / Double(survivors.count)
        let plainPerSite = Double(4 * d + 8)
        let ms = { (s: Double) in String(format: "%.2f", s * 1000) }
        let ratio = { (a: Double) in String(format: "%.1f", a / plainSeconds) }
        return "| \(n) | \(d) | \(config.neighbourhoodSize) | \(config.threshold) | \(Int(dropout * 100))% | \(ms(siteSeconds)) | "
            + "\(ms(report.serverCPUSeconds)) | \(ms(plainSeconds)) | \(ratio(report.serverCPUSeconds)) | "
            + "\(ratio(report.serverCPUSeconds + siteSeconds)) | \(String(format: "%.0f (%.0f)", sentPerSite / 1e3, plainPerSite / 1e3)) | "
            + "\(String(format: "%.1f (%.1f)", Double(report.serverBytesReceived) / 1e6, plainPerSite * Double(survivors.count) / 1e6)) |"
    }
}
