import Domain
import Foundation
import Live
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

/// `serve --role`: the API (the request path) and the writer (the outbox relay and the Kafka →
/// MongoDB consumer) run apart.
@Suite(.enabled(if: Backends.allThere))
struct RoleTests {
    @Test(arguments: ShopServer.Role.allCases)
    func eachRoleRunsItsServices(_ role: ShopServer.Role) async throws {
        var configuration = try Backends.liveConfiguration()
        configuration.role = role
        let composition = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
        let consumers = composition.services.filter { $0 is EventConsumerService }.count
        let relays = composition.services.filter { $0 is OutboxRelay }.count
        #expect(consumers == (role == .api ? 0 : 1))
        #expect(relays == (role == .api ? 0 : 1))
        let listeners = composition.services.filter { $0 is RedisBroadcastListener }.count
        #expect(listeners == (role == .writer ? 0 : 1))
    }
}
