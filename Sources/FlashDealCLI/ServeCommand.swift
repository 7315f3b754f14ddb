import ArgumentParser
import Domain
import Foundation
import Live
import LiveRuntime
import Logging
import ResultsStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the GraphQL shop: in-memory with a demo catalogue, or on Redis, Kafka and MongoDB.",
        discussion: """
            Every setting is a flag (--port 8081, --role api, --admission-workers 512, --payment-latency 20ms), an \
            environment variable (FLASHDEAL_PORT, FLASHDEAL_ADMISSION_WORKERS, …) and a key of the --config file; \
            flags override the environment, which overrides the file. docs/configuration.md lists every one, and \
            `flashdeal config` prints the configuration they make.
            """)

    @OptionGroup var backends: BackendOptions
    @Argument(parsing: .allUnrecognized, help: "Any setting, as --name VALUE (docs/configuration.md).") var settings: [String] = []

    func run() async throws {
        // The configuration first (its warnings on swift-log's default handler), then the
        // process's log handler as it says.
        let configuration = try backends.configuration(settings: settings, logger: Logger(label: "flashdeal"))
        ShopServer.bootstrapLogging(configuration.log)
        let logger = Logger(label: "flashdeal")
        guard configuration.server.role == .all || configuration.usesBackends else {
            throw ValidationError("role \(configuration.server.role.rawValue) needs the backends (--redis-url, --kafka-brokers, --mongo-uri)")
        }
        do {
            try await ShopServer.run(configuration, logger: logger, predictions: try Self.predictions(configuration.api.predictions))
        } catch let error as StartupError {
            throw ValidationError("\(error)")
        }
    }
}

extension ServeCommand {
    /// The console's predictions from the results store at `path` (nil: none configured).
    static func predictions(_ path: String?) throws -> (@Sendable (DealID) async throws -> Data?)? {
        guard let path else { return nil }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("api.predictions names \(path), which does not exist: run `flashdeal simulate --results \(path)` first, or unset it")
        }
        let store = try ResultsStore(path: path)
        return { deal in try store.prediction(forDeal: deal.rawValue).map { try JSONEncoder().encode($0) } }
    }
}

/// `flashdeal config`: the configuration the file, the environment and the flags make, one key a
/// line with its value (connection strings redacted), or `--markdown`, the table of every key
/// `docs/configuration.md` holds.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the configuration `serve` would run with (or, with --markdown, every setting).")

    @Flag(help: "Print docs/configuration.md's table of every setting instead.") var markdown = false
    @OptionGroup var backends: BackendOptions
    @Argument(parsing: .allUnrecognized, help: "Any setting, as --name VALUE.") var settings: [String] = []

    func run() throws {
        if markdown {
            print(ConfigurationKey.markdownTable())
            return
        }
        let configuration = try backends.configuration(settings: settings)
        for key in ConfigurationKey.all {
            print("\(key.key) = \(key.value(in: configuration))")
        }
    }
}
