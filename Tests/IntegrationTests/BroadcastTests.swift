import Domain
import Foundation
import Live
import LiveKafka
import LiveRedis
import LiveRuntime
import Logging
import ServiceLifecycle
import Testing

/// Subscriptions hear of changes made on any replica: one replica publishes a batch on Redis, and
/// another replica's listener hands it to that replica's hub.
@Suite(.enabled(if: Backends.redisURL != nil))
struct BroadcastTests {
    @Test func aBatchPublishedOnOneReplicaReachesAnothersHub() async throws {
        let url = try #require(Backends.redisURL), prefix = Backends.uniquePrefix()
        let hub = EventHub()
        let stream = await hub.subscribe { $0.deal == "d-1" }
        let group = ServiceGroup(
            services: [RedisBroadcastListener(url: url, prefix: prefix, hub: hub, logger: Logger(label: "test"), wake: .milliseconds(200))],
            logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let broadcast = RedisBroadcast(pool: try await Backends.redisPool(), prefix: prefix)
        let event = EventEnvelope(
            aggregateID: .deal("d-1"), sequence: 2, occurredAt: .seconds(5), payload: .deal(.started(DealStarted(dealID: "d-1", at: .seconds(5)))))
        let other = EventEnvelope(
            aggregateID: .deal("d-2"), sequence: 2, occurredAt: .seconds(5), payload: .deal(.started(DealStarted(dealID: "d-2", at: .seconds(5)))))
        // Pub/sub keeps nothing for a listener not yet subscribed: publish until the hub hears it.
        let received = try await withThrowingTaskGroup(of: EventHub.Change?.self) { tasks in
            tasks.addTask {
                for _ in 0..<100 {
                    try await broadcast.publish([other, event])
                    try await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            tasks.addTask { await stream.first { _ in true } }
            let first = try await tasks.next() ?? nil
            tasks.cancelAll()
            return first
        }
        #expect(received == EventHub.Change(event), "the other deal's change is filtered out, this one arrives")
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// The listener stays subscribed while idle: batches published one by one, each after a pause
/// longer than its wake-up, all arrive (it used to reconnect after every idle wake and lose what
/// was published in the gap).
@Suite(.enabled(if: Backends.redisURL != nil))
struct BroadcastGapTests {
    @Test func nothingPublishedBetweenIdleWakesIsLost() async throws {
        let url = try #require(Backends.redisURL), prefix = Backends.uniquePrefix()
        let hub = EventHub()
        let probes = await hub.subscribe { $0.deal == "probe" }
        let gaps = await hub.subscribe(buffer: 1024) { $0.deal?.rawValue.hasPrefix("gap-") == true }
        let group = ServiceGroup(
            services: [RedisBroadcastListener(url: url, prefix: prefix, hub: hub, logger: Logger(label: "test"), wake: .milliseconds(5))],
            logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let pool = try await Backends.redisPool()
        let channel = "\(prefix):events"
        func publish(_ deal: String) async throws { _ = try await pool.send(["PUBLISH", channel, EventHub.Change(stream: .deal(DealID(deal)), deal: DealID(deal)).line]) }
        // Pub/sub keeps nothing for a listener not yet subscribed: probe until the hub hears one.
        let subscribed = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                for _ in 0..<100 {
                    try await publish("probe")
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            tasks.addTask { await probes.first { _ in true } != nil }
            let first = try await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
        try #require(subscribed)
        // Each batch after a pause about the listener's wake-up or longer.
        let count = 120
        for n in 0..<count {
            try await publish("gap-\(n)")
            try await Task.sleep(for: .milliseconds(n % 3 == 0 ? 9 : 4))
        }
        let received = try await withThrowingTaskGroup(of: Int.self) { tasks in
            tasks.addTask {
                var seen = Set<DealID>()
                for await change in gaps {
                    if let deal = change.deal { seen.insert(deal) }
                    if seen.count == count { break }
                }
                return seen.count
            }
            tasks.addTask { try await Task.sleep(for: .seconds(10)); return -1 }
            let first = try await tasks.next() ?? -1
            tasks.cancelAll()
            return first
        }
        #expect(received == count, "\(received) of \(count) batches arrived (-1: not all within 10 s)")
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// `serve --role`: the API (the request path) and the writer (the outbox relay and the Kafka →
/// MongoDB consumer) run apart.
@Suite(.enabled(if: Backends.allThere))
struct RoleTests {
    @Test(arguments: ShopServer.Role.allCases)
    func eachRoleRunsItsServices(_ role: ShopServer.Role) async throws {
        var configuration = try Backends.liveConfiguration()
        configuration.server.role = role
        let composition = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
        let consumers = composition.services.filter { $0 is EventConsumerService }.count
        let relays = composition.services.filter { $0 is OutboxRelay }.count
        #expect(consumers == (role == .api ? 0 : 1))
        #expect(relays == (role == .api ? 0 : 1))
        let listeners = composition.services.filter { $0 is RedisBroadcastListener }.count
        #expect(listeners == (role == .writer ? 0 : 1))
    }
}
