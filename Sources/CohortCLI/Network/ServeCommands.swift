import ArgumentParser
import CohortCoordinator
import CohortPKI
import CohortSite
import Foundation
import Logging

/// `cohort coordinator`: run the coordinator.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: the gRPC server (mutual TLS) sites and admins connect to, and the job runner.")

    @Option(help: "The coordinator's startup kit.")
    var kit: String

    @Option(help: "State directory (SQLite database, model checkpoints, audit log); default: the kit's state_dir.")
    var state: String?

    func run() async throws {
        LoggingBootstrap.once()
        MemoryTuning.applyForCoordinator()
        let logger = Logger(label: "cohort.coordinator")
        let coordinator: Coordinator
        do {
            coordinator = try Coordinator(kit: Kit.load(from: URL(fileURLWithPath: self.kit)), stateDirectory: self.state.map { URL(fileURLWithPath: $0) },
                                          logger: logger)
        } catch let e as PKIError {
            Console.error(e.description)
            throw ExitCode(2)
        }
        _ = try await withSignalCancellation {
            try await coordinator.run(software: CohortVersion.software) { port in
                Console.note("coordinator listening on port \(port)")
            }
        }
    }
}

/// `cohort site`: run a site agent.
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Run a site agent: connects out to the coordinator, checks jobs against site.yaml's policy, trains on local data.")

    @Option(help: "The site's startup kit.")
    var kit: String

    @Option(help: "Data directory: train.csv (and optionally test.csv), or <site>_train.csv (and <site>_test.csv).")
    var data: String

    @Option(help: "State directory (egress log, job logs); default: the kit's state_dir.")
    var state: String?

    func run() async throws {
        LoggingBootstrap.once()
        MemoryTuning.applyForSites()
        let logger = Logger(label: "cohort.site")
        let agent: SiteAgent
        do {
            agent = try SiteAgent(kit: Kit.load(from: URL(fileURLWithPath: self.kit)), dataDirectory: URL(fileURLWithPath: self.data),
                                  stateDirectory: self.state.map { URL(fileURLWithPath: $0) }, logger: logger)
        } catch let e as PKIError {
            Console.error(e.description)
            throw ExitCode(2)
        }
        do {
            _ = try await withSignalCancellation { try await agent.run(software: CohortVersion.software) }
        } catch let e as SiteAgent.FatalError {
            Console.error(e.message)
            throw ExitCode(3)
        }
    }
}

/// `cohort aggregator`: run a regional aggregator.
struct AggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "Run a regional aggregator: a coordinator to its region's sites and one site to the upstream coordinator.",
        discussion: """
            The region's sites connect to this aggregator (their site.yaml names it). Each round it sends them the \
            coordinator's task, sums their updates exactly and passes one sum up, of at least min_sites sites \
            (aggregator.yaml). FedAvg through regions gives the same model as without them, bit for bit.
            """)

    @Option(help: "The aggregator's startup kit.")
    var kit: String

    @Option(help: "The upstream coordinator as HOST:PORT; default: aggregator.yaml's upstream.")
    var upstream: String?

    @Option(help: "State directory (the region's database and models, the upstream egress log); default: the kit's state_dir.")
    var state: String?

    func run() async throws {
        LoggingBootstrap.once()
        MemoryTuning.applyForCoordinator()
        let logger = Logger(label: "cohort.aggregator")
        var kit: Kit
        let aggregator: RegionalAggregator
        do {
            kit = try Kit.load(from: URL(fileURLWithPath: self.kit))
            if let upstream = self.upstream, case .aggregator(var config) = kit.config {
                guard let colon = upstream.lastIndex(of: ":"), let port = Int(upstream[upstream.index(after: colon)...]), (1...65535).contains(port) else {
                    throw ValidationError("--upstream '\(upstream)' is not HOST:PORT")
                }
                config.upstream = Endpoint(host: String(upstream[..<colon]).trimmingCharacters(in: ["[", "]"]), port: port)
                kit = kit.replacing(config: .aggregator(config))
            }
            aggregator = try RegionalAggregator(kit: kit, stateDirectory: self.state.map { URL(fileURLWithPath: $0) }, logger: logger)
        } catch let e as PKIError {
            Console.error(e.description)
            throw ExitCode(2)
        }
        let upstreamState = aggregator.stateDirectory.appendingPathComponent("upstream")
        let linkKit = kit
        do {
            _ = try await withSignalCancellation {
                try await aggregator.run(software: CohortVersion.software, onListening: { port in
                    Console.note("aggregator listening on port \(port) for its region")
                }) { region in
                    try await SiteAgent(upstreamOf: linkKit, region: region, stateDirectory: upstreamState, logger: logger)
                        .run(software: CohortVersion.software)
                }
            }
        } catch let e as SiteAgent.FatalError {
            Console.error(e.message)
            throw ExitCode(3)
        }
    }
}

/// Installs the console log handler once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false  // only touched from the main command before any concurrency

    static func once() {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["COHORT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return h
        }
    }
}
