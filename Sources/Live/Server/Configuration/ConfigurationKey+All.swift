import Domain
import LiveRedis

extension ConfigurationKey {
    /// Every setting, in the order `docs/configuration.md` lists them.
    public static var all: [ConfigurationKey] {
        let hour = Duration.seconds(3600)
        return [
            // The process.
            .text("host", \.server.host, "Address to listen on."),
            .int("port", \.server.port, 1...65535, "Port to listen on."),
            .choice("role", \.server.role, "What this process runs: `all`; `api` (the request path); `writer` (outbox relay, Kafka → MongoDB consumer, sweeper, deal scheduler, payment reconciler). `api` and `writer` need the backends."),
            .duration("shutdownTimeout", \.server.shutdownTimeout, .milliseconds(1)...hour, "How long the server may drain after SIGTERM or SIGINT before what is left is cancelled (keep it under the pod's grace period)."),
            .bool("eventLoopExecutor", \.server.eventLoopExecutor, "Run Swift concurrency on NIO's event loops (fewer thread hops per request)."),
            .choice("log.level", \.log.level, "The least severe log level written: `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`."),
            .choice("log.format", \.log.format, "`json`: one object a line on standard error (time, level, logger, message, request id, trace and span ids, metadata; what `deploy/loki` parses); `text`: swift-log's plain line."),
            .bool("log.access", \.log.access, "An access-log line for every HTTP request (method, path, status, GraphQL operation and outcome, duration, request id); off by default (its CPU cost at a sale's rates: docs/observability.md)."),
            .bool("metrics.enabled", \.metrics.enabled, "Record requests, operations, outcomes, cache lookups and event-loop lag on `/metrics` (off only to measure what recording costs: the alerts and dashboards read them)."),
            // The API.
            .optionalText("api.webRoot", \.api.webRoot, "a folder", "Where the storefront (`/`) and the operator console (`/admin`) are read from; unset: `FlashDeal_LiveWeb.resources/Public` beside the binary."),
            .optionalText("api.predictions", \.api.predictions, "a results store (SQLite)", "The simulator's results store (`flashdeal-results.sqlite`): the operator console shows the newest prediction of a scenario that sells the running deal beside its live numbers; unset: none."),
            .list("api.allowedOrigins", \.api.allowedOrigins, "The `Origin`s (`https://shop.example`) a browser's WebSocket may come from besides the server's own."),
            .duration("api.responseCacheTTL", \.api.responseCacheTTL, .zero...Duration.seconds(60), "How long a public query's answer (deal, deals, product) is served from this replica's memory; 0 for never."),
            .int("api.maxBodyBytes", \.api.maxBodyBytes, 1024...16 * 1024 * 1024, "Largest request body; larger is 413."),
            .int("api.maxQueryDepth", \.api.maxQueryDepth, 2...64, "Deepest selection nesting a query may have; deeper is 400 before execution."),
            .int("api.maxAliases", \.api.maxAliases, 0...10_000, "Most aliased fields a document may have; more is 400 before execution."),
            .int("api.maxCost", \.api.maxCost, 1...10_000_000, "Highest estimated cost of an operation (each field 1, what a field with `first: n` selects n times; a variable counts as the largest page, 100); more is 400 before execution."),
            .int("api.maxSocketsPerBuyer", \.api.maxSocketsPerBuyer, 1...10_000, "WebSockets one signed-in buyer may hold open on one replica; more are closed with 4430."),
            .int("api.maxAnonymousSocketsPerAddress", \.api.maxAnonymousSocketsPerAddress, 1...100_000, "WebSockets without a buyer that one client address may hold open on one replica; more are closed with 4430."),
            .int("api.maxOperationsPerSocket", \.api.maxOperationsPerSocket, 1...10_000, "Operations (subscriptions, queries, mutations) one WebSocket may run at once; more are answered with an error message."),
            .choice("api.introspection", \.api.introspection, "Whether `__schema` and `__type` are answered: `auto` (in the embedded mode only), `on`, `off`."),
            // Identity.
            .choice("auth.mode", \.auth.mode, "`jwt`: callers prove who they are with `Authorization: Bearer <JWT>`; `trusted-header`: a gateway in front has authenticated them and names them in `auth.trustedHeader` (only behind such a gateway)."),
            .secret("auth.secret", \.auth.secret, "The HS256 secret tokens are signed with. With neither it nor `auth.jwks`, the embedded mode uses the development secret `flashdeal token` signs with, and a shop on the backends authenticates nobody (and has no admin)."),
            .secret("auth.ticketSecret", \.auth.ticketSecret, "The secret waiting rooms sign admission tickets with (every replica must share it; a key derived from it, so a ticket is never a bearer token). Unset: `auth.secret`'s, or in the embedded mode the development secret; with neither on the backends, a random one per process, so a ticket is good only on the replica that signed it."),
            .optionalText("auth.jwks", \.auth.jwks, "a file's path or an http(s) URL", "A JWKS whose keys verify RS256, ES256 and the other algorithms it names, read at start-up."),
            .optionalText("auth.audience", \.auth.audience, "a text", "The `aud` tokens must name (unset: not checked)."),
            .optionalText("auth.issuer", \.auth.issuer, "a text", "The `iss` tokens must come from (unset: not checked)."),
            .text("auth.trustedHeader", \.auth.trustedHeader, "In `trusted-header` mode: the header that names the caller."),
            .users("auth.trustedAdmins", \.auth.trustedAdmins, "In `trusted-header` mode: the users who may run admin mutations (none by default)."),
            .int("admission.workers", \.admission.workers, 0...100_000, "GraphQL requests run at once per replica; 0 turns load shedding off."),
            .int("admission.queue", \.admission.queue, 0...1_000_000, "Requests that may wait for a worker; more are answered 503 with Retry-After."),
            .duration("admission.queueTimeout", \.admission.queueTimeout, .milliseconds(1)...Duration.seconds(600), "A request that waited longer for a worker is answered 503."),
            // Rate limits.
            .double("limits.buyerRate", \.limits.buyerRate, 0...100_000, "Business mutations (placeOrder, payOrder, cancelOrder) a buyer may run a second, on every replica together; more are answered `RateLimited`. 0: no limit."),
            .double("limits.buyerBurst", \.limits.buyerBurst, 1...1_000_000, "How many of them a buyer may run at once before the rate applies."),
            .double("limits.addressRate", \.limits.addressRate, 0...1_000_000, "Requests a client address may send a second; more are answered 429 with a jittered `Retry-After`. 0: no limit."),
            .double("limits.addressBurst", \.limits.addressBurst, 1...10_000_000, "How many requests an address may send at once before the rate applies."),
            .optionalText("limits.clientAddressHeader", \.limits.clientAddressHeader, "a header name", "The header a load balancer in front names the client in (`X-Forwarded-For`: its last entry counts); unset: the connection's peer."),
            // Redis.
            .connection("redis.url", \.redis.url, scheme: "redis", "a redis:// URL such as redis://127.0.0.1:6379", "Redis: stock gate, hot orders and payments, idempotency, outbox, cache. Unset (with Kafka and MongoDB): the embedded mode."),
            .choice("redis.durability", \.redis.durability, "The durability Redis must have, checked at start-up: `any` (warns without an append-only file), `everysec` or `always` (its appendfsync)."),
            .int("redis.replicas", \.redis.replicas, 0...16, "Replicas that must acknowledge every write (WAIT) before it is answered; 0 for none."),
            .duration("redis.replicaTimeout", \.redis.replicaTimeout, .milliseconds(1)...Duration.seconds(60), "How long a write waits for those replicas before the request fails."),
            .int("redis.connections", \.redis.connections, 1...256, "Connections in the request path's pool (each pipelines every request's commands)."),
            .duration("redis.connectTimeout", \.redis.connectTimeout, .milliseconds(1)...Duration.seconds(60), "How long connecting to Redis may take."),
            .text("redis.keyPrefix", \.redis.keyPrefix, "Namespaces every Redis key (`<prefix>:…`); `audit`, `replay` and `outbox` must use the server's."),
            // Kafka.
            .connection("kafka.brokers", \.kafka.brokers, scheme: nil, "host:port[,host:port…]", "Kafka bootstrap brokers: the event stream from the outbox relay to the writer."),
            .text("kafka.topicPrefix", \.kafka.topicPrefix, "Namespaces topics (`<prefix>.orders`, …) and the writers' consumer group (`<prefix>-writers`)."),
            .duration("kafka.producer.linger", \.kafka.producer.linger, .zero...Duration.seconds(60), "How long the producer gathers a batch (`linger.ms`)."),
            .duration("kafka.producer.messageTimeout", \.kafka.producer.messageTimeout, .milliseconds(1)...hour, "How long a message may wait for delivery before the relay is told it failed (`message.timeout.ms`)."),
            .duration("kafka.consumer.sessionTimeout", \.kafka.consumer.sessionTimeout, .seconds(1)...Duration.seconds(300), "How soon the group notices a writer gone (`session.timeout.ms`)."),
            .duration("kafka.consumer.heartbeatInterval", \.kafka.consumer.heartbeatInterval, .milliseconds(10)...Duration.seconds(60), "`heartbeat.interval.ms`: keep it well under the session timeout."),
            .duration("kafka.consumer.metadataRefresh", \.kafka.consumer.metadataRefresh, .milliseconds(100)...hour, "How soon a subscribed topic is noticed after it is created (`topic.metadata.refresh.interval.ms`)."),
            // MongoDB.
            .connection("mongo.uri", \.mongo.uri, scheme: "mongodb", "a mongodb:// URI such as mongodb://127.0.0.1:27017/flashdeal", "MongoDB: catalogue, durable orders and payments, event store."),
            .optionalDuration("mongo.request.serverSelectionTimeout", \.mongo.requestTimeouts.serverSelection, .milliseconds(1)...Duration.seconds(600), "What a request waits for MongoDB to answer at all (down: how long a catalogue read takes to fail). The writer keeps libmongoc's own; options in the URI win."),
            .optionalDuration("mongo.request.connectTimeout", \.mongo.requestTimeouts.connect, .milliseconds(1)...Duration.seconds(600), "What a request waits to connect to MongoDB."),
            .optionalDuration("mongo.request.socketTimeout", \.mongo.requestTimeouts.socket, .milliseconds(1)...Duration.seconds(600), "What a request waits for a reply (hung: how long a read takes to fail)."),
            // The outbox and its relay.
            .int("outbox.cap", \.outbox.cap, 0...100_000_000, "Outbox entries waiting for Kafka from which new orders are refused; 0 for no cap."),
            .int("outbox.batchSize", \.outbox.batchSize, 1...100_000, "Entries the relay reads and sends at once."),
            .duration("outbox.idle", \.outbox.idle, .milliseconds(1)...Duration.seconds(60), "How long the relay waits when the outbox is empty."),
            .duration("outbox.retry", \.outbox.retry, .milliseconds(1)...Duration.seconds(600), "The relay's first back-off after a failed send; it doubles up to `outbox.maximumRetry`."),
            .duration("outbox.maximumRetry", \.outbox.maximumRetry, .milliseconds(1)...hour, "The relay's longest back-off."),
            .duration("outbox.claimAfter", \.outbox.claimAfter, .seconds(1)...hour, "How long an entry another relay read may stay unacknowledged before this one claims it."),
            // The writer.
            .int("writer.batchSize", \.writer.batchSize, 1...100_000, "Kafka messages read and written to MongoDB per batch."),
            .duration("writer.pollTimeout", \.writer.pollTimeout, .milliseconds(1)...Duration.seconds(60), "How long one poll waits for messages."),
            .duration("writer.sweepInterval", \.writer.sweepInterval, .milliseconds(10)...hour, "How often lapsed reservations are swept and scheduled deals started and ended."),
            .duration("writer.reconcileInterval", \.writer.reconcileInterval, .milliseconds(10)...hour, "How often payments and refunds cut short are looked for."),
            .duration("writer.reconcileAfter", \.writer.reconcileAfter, .seconds(1)...hour, "How old a payment cut short must be before the reconciler finishes it."),
            // Caches.
            .duration("cache.catalogTTL", \.cache.catalogTTL, .seconds(1)...Duration.seconds(86_400), "How long Redis keeps a product's or deal's copy."),
            .duration("cache.localTTL", \.cache.localTTL, .milliseconds(1)...hour, "How long this process keeps the catalogue it decoded."),
            .duration("cache.staleLimit", \.cache.staleLimit, .zero...hour, "How long past expiry a catalogue value may still be served while it is refreshed (or while the refresh fails)."),
            // The payment provider.
            .duration("payment.latency", \.payment.latency, .zero...Duration.seconds(60), "The simulated provider: how long each charge and refund takes."),
            .double("payment.declineRate", \.payment.declineRate, 0...1, "The simulated provider: the share of charges declined."),
            // Blocking calls.
            .int("pools.mongoThreads", \.pools.mongoThreads, 1...1024, "Threads for blocking MongoDB calls: MongoDB operations that may wait at once."),
            .int("pools.kafkaThreads", \.pools.kafkaThreads, 1...256, "Threads for blocking Kafka calls (polls, commits, metadata, flushes)."),
        ]
    }

    /// Names of earlier releases, and the key each became: set, they are an error naming it (a
    /// setting that silently stopped applying is worse than a refused start).
    static let renamed: [String: String] = [
        "FLASHDEAL_WORKERS": "admission.workers", "--workers": "admission.workers",
        "FLASHDEAL_ACCEPT_QUEUE": "admission.queue", "--accept-queue": "admission.queue",
        "FLASHDEAL_QUEUE_TIMEOUT_MS": "admission.queueTimeout", "--queue-timeout-ms": "admission.queueTimeout",
        "FLASHDEAL_RESPONSE_CACHE_MS": "api.responseCacheTTL", "--response-cache-ms": "api.responseCacheTTL",
        "FLASHDEAL_SHUTDOWN_TIMEOUT_MS": "shutdownTimeout", "--shutdown-timeout-ms": "shutdownTimeout",
        "FLASHDEAL_ADMIN_USERS": "auth.mode", "--admin-users": "auth.mode",
        "FLASHDEAL_REDIS_REPLICA_TIMEOUT_MS": "redis.replicaTimeout", "--redis-replica-timeout-ms": "redis.replicaTimeout",
        "FLASHDEAL_PAYMENT_LATENCY_MS": "payment.latency", "--payment-latency-ms": "payment.latency",
        "FLASHDEAL_KEY_PREFIX": "redis.keyPrefix", "--key-prefix": "redis.keyPrefix",
    ]

    /// `docs/configuration.md`'s table: every key with its variable, flag, default and meaning.
    public static func markdownTable() -> String {
        let defaults = Tree()
        let rows = all.map { key in
            let shown = key.value(in: defaults)
            return "| `\(key.key)` | `\(key.environmentName)` | `\(key.flag)` | \(shown.isEmpty ? "unset" : "`\(shown)`") | \(key.expected) | \(key.summary) |"
        }
        return (["| key | environment | flag | default | takes | meaning |", "|---|---|---|---|---|---|"] + rows).joined(separator: "\n")
    }
}
