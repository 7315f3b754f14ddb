public import Domain
public import Logging
public import ServiceLifecycle

/// Finishes the payments and refunds a crash, a killed process or a lost connection cut short:
/// every `interval` it runs `Shop.reconcilePayments` and `Shop.reconcileRefunds` over the attempts
/// claimed more than `olderThan` ago and still pending, which ends each payment charged and sold
/// once, or refunded once, and each refund refunded with its units returned once (see
/// `docs/flows.md`). Runs in the writer role; several writers may run it at once (every step is
/// idempotent). Stops on graceful shutdown after the pass in progress.
public struct ReconciliationService: Service {
    let shop: Shop
    let interval: Duration
    let olderThan: Duration
    let logger: Logger

    public init(shop: Shop, interval: Duration = .seconds(5), olderThan: Duration = .seconds(30), logger: Logger) {
        self.shop = shop
        self.interval = interval
        self.olderThan = olderThan
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                for (order, outcome) in try await shop.reconcilePayments(olderThan: olderThan).sorted(by: { $0.key < $1.key }) {
                    logger.warning("payment finished by the reconciler", metadata: ["flashdeal.order.id": "\(order)", "flashdeal.payment.outcome": "\(outcome)"])
                }
                for (order, outcome) in try await shop.reconcileRefunds(olderThan: olderThan).sorted(by: { $0.key < $1.key }) {
                    logger.warning("refund finished by the reconciler", metadata: ["flashdeal.order.id": "\(order)", "flashdeal.refund.outcome": "\(outcome)"])
                }
            } catch {
                logger.error("payment reconciliation failed; it runs again", metadata: ["flashdeal.error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
