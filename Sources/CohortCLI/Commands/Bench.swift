import ArgumentParser

/// `cohort bench`: performance benchmarks against baselines measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run performance benchmarks (see docs/performance.md).")

    func run() async throws {
        print("bench: not yet")
    }
}
