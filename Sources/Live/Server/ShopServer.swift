public import Domain
import DomainMemory
public import Foundation
import Hummingbird
import HummingbirdWebSocket
public import LiveAPI
public import LiveRedis
import LiveRuntime
import LiveWeb
public import Logging
import ServiceLifecycle

/// `flashdeal serve`: the shop on the in-memory adapters (no backend given: the embedded default,
/// seeded with a demo catalogue) or on Redis, Kafka and MongoDB together, with every long-lived
/// part a Service in one ServiceGroup.
public enum ShopServer {
    /// Runs until SIGTERM or SIGINT, then drains and stops within the graceful-shutdown bound.
    /// `predictions`: what the simulator predicted for a deal, as JSON (the CLI reads them from
    /// `api.predictions`' results store).
    public static func run(
        _ configuration: Configuration, logger: Logger, predictions: (@Sendable (DealID) async throws -> Data?)? = nil
    ) async throws {
        guard configuration.server.eventLoopExecutor else { return try await serve(configuration, logger: logger, predictions: predictions) }
        // Every task the server starts, and their children, run on the event loops, straight through;
        // the tasks its code starts with `Task` ask for them too (ServerTasks).
        try await ServerTasks.$executor.withValue(EventLoopTaskExecutor.singleton) {
            try await withTaskExecutorPreference(EventLoopTaskExecutor.singleton) {
                try await serve(configuration, logger: logger, predictions: predictions)
            }
        }
    }

    private static func serve(
        _ configuration: Configuration, logger: Logger, predictions: (@Sendable (DealID) async throws -> Data?)?
    ) async throws {
        // Tracing first: every span the composition's parts start goes to its tracer.
        let tracing = try tracing(ProcessInfo.processInfo.environment, role: configuration.server.role.rawValue, logger: logger)
        var routing = configuration.router
        routing.tracing = tracing != nil
        let metrics = ShopMetrics(recording: configuration.metrics.enabled)
        let composition = try await compose(configuration, metrics: metrics, logger: logger)
        let shop = Shop(ports: composition.ports)
        if composition.mode == .embedded {
            try await DemoCatalog.seed(shop, now: await composition.ports.clock.now())
            logger.info("embedded mode: in-memory adapters with the demo catalogue")
        }
        let health = composition.health
        let shopRouter = try ShopRouter(
            shop: shop, configuration: routing,
            metrics: metrics, hub: composition.hub, orderRefusal: composition.orderRefusal,
            authenticator: try await authenticator(configuration, logger: logger), rateLimiter: composition.rateLimiter, logger: logger,
            waitingRoom: WaitingRoomAccess(store: composition.waitingRooms, tickets: admissionTickets(configuration, logger: logger), clock: composition.ports.clock),
            predictions: predictions
        ) {
            var states: [String: Bool] = [:]
            for (name, check) in health { states[name] = await check() }
            return states
        }
        let router = shopRouter.router()
        do {
            let pages = try WebPages(root: configuration.api.webRoot)
            pages.add(to: router)
            logger.info("storefront on / and the operator console on /admin", metadata: ["flashdeal.web.root": "\(pages.root.path)"])
        } catch {
            // The API serves without them; the pages are a client of it like any other.
            logger.error("no storefront: \(error)")
        }
        let app = Application(
            router: router, server: .http1WebSocketUpgrade(webSocketRouter: shopRouter.webSocketRouter()),
            configuration: .init(address: .hostname(configuration.server.host, port: configuration.server.port)), logger: logger)
        // Started in this order, stopped in reverse: the HTTP server stops first (draining its
        // requests), the relay empties the outbox it can, the producer flushes, and the span
        // exporter sends what is left last.
        var services: [any Service] = (tracing.map { [$0] } ?? []) + composition.services
        if configuration.server.role != .api {
            services.append(MaintenanceService(shop: shop, interval: configuration.writer.sweepInterval, logger: logger))
            services.append(ReconciliationService(
                shop: shop, interval: configuration.writer.reconcileInterval, olderThan: configuration.writer.reconcileAfter, logger: logger))
        }
        if configuration.metrics.enabled { services.append(EventLoopLagProbe(registry: metrics.registry)) }
        services.append(app)
        var group = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.server.shutdownTimeout
        // After the bound, cancelled services get a second to return before the group gives up.
        group.maximumCancellationDuration = .seconds(1)
        try await ServiceGroup(configuration: group).run()
    }
}
