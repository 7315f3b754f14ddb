import ArgumentParser
import Foundation
import Live

@main
enum FlashDealMain {
    static func main() async {
        // `serve` runs Swift concurrency on the event loops (see ShopServer.runConcurrencyOnEventLoops):
        // decided here, on the main thread, before any task is enqueued.
        // A configuration that does not load is reported by `serve` itself, after this.
        if CommandLine.arguments.dropFirst().first == "serve", let serve = try? ServeCommand.parse(Array(CommandLine.arguments.dropFirst(2))),
            (try? serve.backends.configuration(settings: serve.settings))?.server.eventLoopExecutor ?? true
        {
            ShopServer.runConcurrencyOnEventLoops()
        }
        await FlashDealCommand.main()
    }
}

struct FlashDealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashdeal",
        abstract: "Flash Deal: simulate, serve and load-test a flash sale.",
        version: FlashDealVersion.current,
        subcommands: [SimulateCommand.self, SweepCommand.self, PlanScalingCommand.self, ResultsCommand.self, ServeCommand.self, ReplayCommand.self, AuditCommand.self, OutboxCommand.self, LoadTestCommand.self, CompareCommand.self, ValidateCommand.self, SaturationCommand.self, DrainCommand.self, CalibrateCommand.self, ConfigCommand.self, TokenCommand.self, FairnessCommand.self]
    )
}

enum FlashDealVersion {
    static let current = "0.1.0"
}
