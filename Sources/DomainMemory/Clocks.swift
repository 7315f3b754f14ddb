public import Domain

/// A clock that moves only when told: tests and deterministic runs.
public actor ManualClock: DomainClock {
    public private(set) var current: Instant

    public init(_ start: Instant = .seconds(1_700_000_000)) { current = start }

    public func now() -> Instant { current }
    public func advance(by duration: Duration) { current = current + duration }
    public func set(_ instant: Instant) { current = instant }
}

/// Identifiers `o-1`, `o-2`, ... and `p-1`, ...: deterministic, for tests and the simulator.
public actor SequentialIdentifiers: IdentifierGenerator {
    private var orders = 0
    private var payments = 0
    private let prefix: String

    public init(prefix: String = "") { self.prefix = prefix }

    public func makeOrderID(for deal: DealID) -> OrderID {
        orders += 1
        return OrderID("\(prefix)o-\(orders)")
    }

    public func makePaymentID(for order: OrderID) -> PaymentID {
        payments += 1
        return PaymentID("\(prefix)p-\(payments)")
    }
}
