import ArgumentParser

@main
struct FlashDealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashdeal",
        abstract: "Flash Deal: simulate, serve and load-test a flash sale.",
        version: FlashDealVersion.current,
        subcommands: [SimulateCommand.self, SweepCommand.self, ResultsCommand.self, ServeCommand.self, ReplayCommand.self, LoadTestCommand.self, CompareCommand.self, ValidateCommand.self, CalibrateCommand.self]
    )
}

enum FlashDealVersion {
    static let current = "0.1.0"
}
