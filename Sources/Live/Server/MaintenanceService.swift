public import Domain
public import Logging
public import ServiceLifecycle

/// The reservation-expiry sweeper and the deal scheduler, as one Service: every `interval` it
/// expires due reservations and starts or ends deals whose time has come. It stops on graceful
/// shutdown after the tick in progress.
public struct MaintenanceService: Service {
    let shop: Shop
    let interval: Duration
    let logger: Logger

    public init(shop: Shop, interval: Duration = .seconds(1), logger: Logger) {
        self.shop = shop
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let expired = try await shop.expireReservations()
                let changed = try await shop.runSchedule()
                if !expired.isEmpty || !changed.isEmpty {
                    logger.info("maintenance", metadata: ["flashdeal.expired": "\(expired.count)", "flashdeal.deals.changed": "\(changed.count)"])
                }
            } catch {
                logger.error("maintenance tick failed", metadata: ["flashdeal.error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
