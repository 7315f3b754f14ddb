/// The application: every use case of the flash sale, carried out through the ports.
///
/// Each use case asks the Domain's aggregates to decide, has the ports persist what they
/// decided, then appends the resulting events to the event store and publishes them. Business
/// outcomes (sold out, over the limit, expired) are returned as values; only faults throw.
public struct Shop: Sendable {
    public struct Ports: Sendable {
        public var ledger: any StockLedger
        public var orders: any OrderRepository
        public var payments: any PaymentRepository
        public var catalog: any DealCatalog
        public var events: any EventLog
        public var publisher: any EventPublisher
        public var idempotency: any IdempotencyStore
        public var gateway: any PaymentGateway
        public var clock: any DomainClock
        public var identifiers: any IdentifierGenerator
        /// The money path's atomic steps; nil runs them as the other ports' calls in order
        /// (``SequentialCheckoutSteps``).
        public var checkoutSteps: (any CheckoutSteps)?

        public init(
            ledger: any StockLedger, orders: any OrderRepository, payments: any PaymentRepository,
            catalog: any DealCatalog, events: any EventLog, publisher: any EventPublisher,
            idempotency: any IdempotencyStore, gateway: any PaymentGateway, clock: any DomainClock,
            identifiers: any IdentifierGenerator, checkoutSteps: (any CheckoutSteps)? = nil
        ) {
            self.ledger = ledger
            self.orders = orders
            self.payments = payments
            self.catalog = catalog
            self.events = events
            self.publisher = publisher
            self.idempotency = idempotency
            self.gateway = gateway
            self.clock = clock
            self.identifiers = identifiers
            self.checkoutSteps = checkoutSteps
        }

        /// The payment steps in use.
        var steps: any CheckoutSteps { checkoutSteps ?? SequentialCheckoutSteps(ports: self) }
    }

    public let ports: Ports
    /// How often an optimistic write is retried after a version conflict.
    public var conflictRetries = 8
    /// Test-only: stops `payOrder` at a step, as a crash would (nil in production).
    public var faults: (any FaultInjector)?

    public init(ports: Ports) { self.ports = ports }

    /// Appends events to the event store and publishes them.
    func record(_ events: [SequencedEvent], at instant: Instant) async throws {
        guard !events.isEmpty else { return }
        let envelopes = events.map { $0.envelope(at: instant) }
        try await ports.events.append(envelopes, expected: .any)
        try await ports.publisher.publish(envelopes)
    }

    /// Publishes events a step already stored (``CheckoutSteps``).
    func publish(_ events: [SequencedEvent], at instant: Instant) async throws {
        guard !events.isEmpty else { return }
        try await ports.publisher.publish(events.map { $0.envelope(at: instant) })
    }

    /// Loads an order, lets it decide `trigger`, and saves it; retries on a version conflict.
    /// Returns the order as stored and the event, if the transition was allowed.
    func transition(
        _ id: OrderID, _ trigger: OrderStatus.Trigger, at instant: Instant, paymentID: PaymentID? = nil
    ) async throws -> (Order, SequencedEvent?) {
        var attempt = 0
        while true {
            guard let order = try await ports.orders.order(id) else { throw UnknownOrderError(orderID: id) }
            guard let (next, event) = order.after(trigger, at: instant, paymentID: paymentID) else { return (order, nil) }
            do {
                try await ports.orders.save(next, expectedVersion: order.version)
                return (next, event)
            } catch is VersionConflict where attempt < conflictRetries {
                attempt += 1
            }
        }
    }

    /// Saves a payment change and returns its event; after a version conflict (a concurrent
    /// duplicate of the same attempt changed it first) decides again on the stored payment.
    func transition(
        _ payment: Payment, _ trigger: PaymentStatus.Trigger, at instant: Instant, reason: String = ""
    ) async throws -> (Payment, SequencedEvent?) {
        var payment = payment, attempt = 0
        while true {
            guard let (next, event) = payment.after(trigger, at: instant, reason: reason) else { return (payment, nil) }
            do {
                try await ports.payments.save(next, expectedVersion: payment.version)
                return (next, event)
            } catch is VersionConflict where attempt < conflictRetries {
                attempt += 1
                guard let stored = try await ports.payments.payment(payment.id) else { throw UnknownPaymentError(paymentID: payment.id) }
                payment = stored
            }
        }
    }
}

/// A stored order id that names no order: the stores disagree.
public struct UnknownOrderError: Error, Hashable, Sendable {
    public var orderID: OrderID
}

/// A payment id that names no stored payment.
public struct UnknownPaymentError: Error, Hashable, Sendable {
    public var paymentID: PaymentID
}
