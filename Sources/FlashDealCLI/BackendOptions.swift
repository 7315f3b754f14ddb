import ArgumentParser
import Foundation
import Live
import Logging

/// The options every command that reaches the backends shares: where they are, the namespaces the
/// server uses in them, and an optional configuration file. Each is the flag of its setting
/// (docs/configuration.md); the environment and the file fill what the flags leave.
struct BackendOptions: ParsableArguments {
    @Option(help: "A JSON file of settings, nested by key (FLASHDEAL_CONFIG); the environment and flags override it.") var config: String?
    @Option(name: .customLong("redis-url"), help: "Redis, redis://[:password@]host:port (FLASHDEAL_REDIS_URL).") var redisURL: String?
    @Option(name: .customLong("kafka-brokers"), help: "Kafka brokers, host:port[,host:port…] (FLASHDEAL_KAFKA_BROKERS).") var kafkaBrokers: String?
    @Option(name: .customLong("mongo-uri"), help: "MongoDB, mongodb://host:port/database (FLASHDEAL_MONGO_URI).") var mongoURI: String?
    @Option(name: .customLong("redis-key-prefix"), help: "The server's Redis key prefix (FLASHDEAL_REDIS_KEY_PREFIX, default fd).") var keyPrefix: String?
    @Option(name: .customLong("kafka-topic-prefix"), help: "The server's Kafka topic prefix (FLASHDEAL_KAFKA_TOPIC_PREFIX, default flashdeal).") var topicPrefix: String?

    /// These options as the flags of their settings.
    var flags: [String] {
        [("--redis-url", redisURL), ("--kafka-brokers", kafkaBrokers), ("--mongo-uri", mongoURI), ("--redis-key-prefix", keyPrefix), ("--kafka-topic-prefix", topicPrefix)]
            .flatMap { flag, value in value.map { [flag, $0] } ?? [] }
    }

    /// The configuration from the file, the environment, these options and `settings` (more
    /// flags, `serve`'s), each overriding the one before; notes on ignored variables are logged.
    func configuration(settings: [String] = [], logger: Logger? = nil) throws -> ShopServer.Configuration {
        do {
            let (configuration, notes) = try ConfigurationSources(file: config, environment: ProcessInfo.processInfo.environment, flags: flags + settings).load()
            for note in notes { logger?.warning("\(note)") }
            return configuration
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The configuration with Redis, and MongoDB unless `mongo` is false, required.
    func backends(mongo: Bool = true, kafka: Bool = false) throws -> ShopServer.Configuration {
        let configuration = try configuration()
        let missing = [("--redis-url (FLASHDEAL_REDIS_URL)", configuration.redis.url != nil), ("--mongo-uri (FLASHDEAL_MONGO_URI)", !mongo || configuration.mongo.uri != nil),
            ("--kafka-brokers (FLASHDEAL_KAFKA_BROKERS)", !kafka || configuration.kafka.brokers != nil)].filter { !$0.1 }.map(\.0)
        guard missing.isEmpty else { throw ValidationError("needs \(missing.joined(separator: ", "))") }
        return configuration
    }
}
