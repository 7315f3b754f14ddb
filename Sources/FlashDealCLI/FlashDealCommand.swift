import ArgumentParser
import Foundation
import Live

@main
enum FlashDealMain {
    static func main() async {
        // `serve` runs Swift concurrency on the event loops (see ShopServer.runConcurrencyOnEventLoops):
        // decided here, on the main thread, before any task is enqueued.
        if CommandLine.arguments.dropFirst().first == "serve", ProcessInfo.processInfo.environment["FLASHDEAL_EVENT_LOOP_EXECUTOR"] != "0" {
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
        subcommands: [SimulateCommand.self, SweepCommand.self, ResultsCommand.self, ServeCommand.self, ReplayCommand.self, AuditCommand.self, OutboxCommand.self, LoadTestCommand.self, CompareCommand.self, ValidateCommand.self, CalibrateCommand.self]
    )
}

enum FlashDealVersion {
    static let current = "0.1.0"
}
