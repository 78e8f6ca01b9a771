public import ArgumentParser

/// The `cohort` command line.
public struct CohortCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Federated learning for institutions that cannot pool their data.",
        discussion: """
            Start with `cohort simulate`: it simulates 47 hospitals training one readmission model together and \
            compares the result with each hospital training alone and with pooling all data.
            """,
        version: CohortVersion.software,
        subcommands: [
            Simulate.self, Generate.self, Provision.self, Cert.self, CoordinatorCommand.self, SiteCommand.self, AggregatorCommand.self, Job.self,
            StatusCommand.self, Audit.self, Doctor.self, Bench.self,
            Privacy.self, Analytics.self, Query.self,
        ],
        defaultSubcommand: nil
    )

    public init() {}
}

/// Version numbers.
public enum CohortVersion {
    public static let software = "0.1.0"
}

/// The executable's entry point (keeps the `cohort` target free of everything but `@main`).
public enum CohortEntryPoint {
    public static func main() async {
        await CohortCommand.main()
    }
}
