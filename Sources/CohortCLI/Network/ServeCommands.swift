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
