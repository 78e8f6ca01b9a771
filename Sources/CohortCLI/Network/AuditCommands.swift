import ArgumentParser
import CohortStore
import Foundation

/// `cohort audit`: verify and export the hash-chained audit log (coordinator) or egress log (site).
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify or export the coordinator's audit log, or a site's egress log (--egress).",
        subcommands: [Verify.self, Export.self])

    struct Options: ParsableArguments {
        @Option(help: "State directory of the coordinator (or of the site, with --egress).")
        var state: String
        @Flag(help: "Use the site's egress log instead of the coordinator's audit log.")
        var egress = false

        func log() throws -> HashChainedLog {
            let url = URL(fileURLWithPath: self.state)
            let file = url.appendingPathComponent(self.egress ? "site.sqlite" : "coordinator.sqlite")
            guard FileManager.default.fileExists(atPath: file.path) else {
                Console.error("\(file.path) does not exist; --state must be the \(self.egress ? "site's" : "coordinator's") state directory")
                throw ExitCode(2)
            }
            return self.egress ? try SiteStore(directory: url).egress : try CoordinatorStore(directory: url).audit
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; names the first entry that was edited, deleted, inserted or moved.")
        @OptionGroup var options: Options

        func run() throws {
            let result = try self.options.log().verify()
            if let problem = result.problem {
                Console.error("the log is not intact: \(problem)")
                throw ExitCode(1)
            }
            print("ok: \(result.entryCount) entries, chain head \(result.head)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the log as JSON lines.")
        @OptionGroup var options: Options
        @Option(help: "Output file (JSON lines).") var out: String

        func run() throws {
            try self.options.log().export(to: URL(fileURLWithPath: self.out))
            print("wrote \(self.out)")
        }
    }
}
