import CohortCLI

await CohortEntryPoint.main()
