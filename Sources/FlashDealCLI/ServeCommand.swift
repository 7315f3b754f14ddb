import ArgumentParser
import Domain
import Foundation
import Live
import LiveAPI
import LiveKafka
import LiveRedis
import LiveRuntime
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the GraphQL shop: in-memory with a demo catalogue, or on Redis, Kafka and MongoDB.")

    @Option(help: "Address to listen on (FLASHDEAL_HOST).") var host: String?
    @Option(help: "Port (FLASHDEAL_PORT).") var port: Int?
    @Option(help: "Redis URL, e.g. redis://127.0.0.1:6379 (FLASHDEAL_REDIS_URL).") var redisURL: String?
    @Option(help: "The durability Redis must have, checked at start-up: any (default; warns without an append-only file), everysec or always (its appendfsync) (FLASHDEAL_REDIS_DURABILITY).") var redisDurability: String?
    @Option(help: "Replicas that must acknowledge every Redis write before it is answered (WAIT), 0 for none (FLASHDEAL_REDIS_REPLICAS, default 0).") var redisReplicas: Int?
    @Option(help: "Milliseconds a write waits for those replicas before the request fails (FLASHDEAL_REDIS_REPLICA_TIMEOUT_MS, default 200).") var redisReplicaTimeoutMs: Int?
    @Option(help: "Kafka brokers, host:port,... (FLASHDEAL_KAFKA_BROKERS).") var kafkaBrokers: String?
    @Option(help: "Outbox entries waiting for Kafka from which new orders are refused, 0 for no cap (FLASHDEAL_OUTBOX_CAP, default 500000).") var outboxCap: Int?
    @Option(help: "MongoDB URI, e.g. mongodb://127.0.0.1:27017/flashdeal (FLASHDEAL_MONGO_URI).") var mongoURI: String?
    @Option(help: "all (default), api (the request path) or writer (outbox relay, Kafka → MongoDB consumer, sweeper, scheduler) (FLASHDEAL_ROLE).") var role: String?
    @Option(help: "Comma-separated user ids allowed to run admin mutations (FLASHDEAL_ADMIN_USERS, default admin).") var adminUsers: String?
    @Option(help: "Simulated payment provider: milliseconds per charge (FLASHDEAL_PAYMENT_LATENCY_MS, default 0).") var paymentLatencyMs: Int?
    @Option(help: "Simulated payment provider: share of charges declined, 0...1 (FLASHDEAL_PAYMENT_DECLINE_RATE, default 0).") var paymentDeclineRate: Double?
    @Option(help: "Load shedding: GraphQL requests run at once, 0 for no shedding (FLASHDEAL_WORKERS, default 256; the scenario's http.concurrencyPerReplica).") var workers: Int?
    @Option(help: "Load shedding: requests that may wait for a worker; more are answered 503 (FLASHDEAL_ACCEPT_QUEUE, default 2048; http.acceptQueue).") var acceptQueue: Int?
    @Option(help: "Load shedding: a request that waited longer for a worker is answered 503 (FLASHDEAL_QUEUE_TIMEOUT_MS, default 2000; http.requestTimeoutMs).") var queueTimeoutMs: Int?
    @Option(help: "Milliseconds a public query's answer (deal, deals, product) is served from memory, 0 for never (FLASHDEAL_RESPONSE_CACHE_MS, default 250).") var responseCacheMs: Int?
    @Option(help: "Milliseconds the server may take to drain and stop after SIGTERM or SIGINT; then what is left is cancelled (FLASHDEAL_SHUTDOWN_TIMEOUT_MS, default 25000: under Kubernetes' default 30 s grace period).") var shutdownTimeoutMs: Int?

    func run() async throws {
        // Flags, then the environment, then the defaults.
        let environment = ProcessInfo.processInfo.environment
        var configuration = ShopServer.Configuration()
        configuration.host = host ?? environment["FLASHDEAL_HOST"] ?? configuration.host
        if let port = port ?? environment["FLASHDEAL_PORT"].flatMap(Int.init) {
            guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
            configuration.port = port
        }
        configuration.redisURL = redisURL ?? environment["FLASHDEAL_REDIS_URL"]
        if let text = redisDurability ?? environment["FLASHDEAL_REDIS_DURABILITY"] {
            guard let value = RedisDurability(rawValue: text) else {
                throw ValidationError("--redis-durability must be one of \(RedisDurability.allCases.map(\.rawValue).joined(separator: ", ")); found \(text)")
            }
            configuration.redisDurability = value
        }
        let replicas = redisReplicas ?? environment["FLASHDEAL_REDIS_REPLICAS"].flatMap(Int.init) ?? 0
        let replicaTimeout = redisReplicaTimeoutMs ?? environment["FLASHDEAL_REDIS_REPLICA_TIMEOUT_MS"].flatMap(Int.init) ?? 200
        guard (0...16).contains(replicas) else { throw ValidationError("--redis-replicas must be between 0 and 16") }
        guard (1...60_000).contains(replicaTimeout) else { throw ValidationError("--redis-replica-timeout-ms must be between 1 and 60000") }
        if replicas > 0 { configuration.redisReplicaWait = RedisPool.ReplicaWait(replicas: replicas, timeout: .milliseconds(replicaTimeout)) }
        configuration.kafkaBrokers = kafkaBrokers ?? environment["FLASHDEAL_KAFKA_BROKERS"]
        if let cap = outboxCap ?? environment["FLASHDEAL_OUTBOX_CAP"].flatMap(Int.init) {
            guard cap >= 0 else { throw ValidationError("--outbox-cap must be 0 (no cap) or more") }
            configuration.outboxCap = cap == 0 ? nil : cap
        }
        configuration.mongoURI = mongoURI ?? environment["FLASHDEAL_MONGO_URI"]
        if let text = role ?? environment["FLASHDEAL_ROLE"] {
            guard let value = ShopServer.Role(rawValue: text) else {
                throw ValidationError("--role must be one of \(ShopServer.Role.allCases.map(\.rawValue).joined(separator: ", ")); found \(text)")
            }
            guard value == .all || configuration.usesBackends else { throw ValidationError("--role \(text) needs the backends") }
            configuration.role = value
        }
        if let list = adminUsers ?? environment["FLASHDEAL_ADMIN_USERS"] {
            do {
                configuration.admins = Set(try list.split(separator: ",").map { try UserID(validating: String($0), field: "--admin-users") })
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let latency = paymentLatencyMs ?? environment["FLASHDEAL_PAYMENT_LATENCY_MS"].flatMap(Int.init) {
            guard (0...60_000).contains(latency) else { throw ValidationError("--payment-latency-ms must be between 0 and 60000") }
            configuration.paymentLatency = .milliseconds(latency)
        }
        if let rate = paymentDeclineRate ?? environment["FLASHDEAL_PAYMENT_DECLINE_RATE"].flatMap(Double.init) {
            guard (0...1).contains(rate) else { throw ValidationError("--payment-decline-rate must be between 0 and 1") }
            configuration.paymentDeclineRate = rate
        }
        var limits = AdmissionGate.Limits()
        if let workers = workers ?? environment["FLASHDEAL_WORKERS"].flatMap(Int.init) {
            guard (0...100_000).contains(workers) else { throw ValidationError("--workers must be between 0 (no shedding) and 100000") }
            limits.workers = workers
        }
        if let queue = acceptQueue ?? environment["FLASHDEAL_ACCEPT_QUEUE"].flatMap(Int.init) {
            guard (0...1_000_000).contains(queue) else { throw ValidationError("--accept-queue must be between 0 and 1000000") }
            limits.queue = queue
        }
        if let timeout = queueTimeoutMs ?? environment["FLASHDEAL_QUEUE_TIMEOUT_MS"].flatMap(Int.init) {
            guard (1...600_000).contains(timeout) else { throw ValidationError("--queue-timeout-ms must be between 1 and 600000") }
            limits.timeout = .milliseconds(timeout)
        }
        configuration.admission = limits.workers > 0 ? limits : nil
        if let ms = responseCacheMs ?? environment["FLASHDEAL_RESPONSE_CACHE_MS"].flatMap(Int.init) {
            guard (0...60_000).contains(ms) else { throw ValidationError("--response-cache-ms must be between 0 and 60000") }
            configuration.responseCacheTTL = .milliseconds(ms)
        }
        if let ms = shutdownTimeoutMs ?? environment["FLASHDEAL_SHUTDOWN_TIMEOUT_MS"].flatMap(Int.init) {
            guard (1...3_600_000).contains(ms) else { throw ValidationError("--shutdown-timeout-ms must be between 1 and 3600000") }
            configuration.shutdownTimeout = .milliseconds(ms)
        }
        var logger = Logger(label: "flashdeal")
        logger.logLevel = .info
        do {
            try await ShopServer.run(configuration, logger: logger)
        } catch let error as StartupError {
            throw ValidationError("\(error)")
        }
    }
}
