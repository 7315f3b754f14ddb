public import Domain
import Foundation

/// The server's clock: the system's wall clock (the Domain never reads it directly).
public struct WallClock: DomainClock {
    public init() {}

    public func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Instant(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

/// Order and payment ids from random UUIDs, unique across replicas without coordination, each
/// naming its deal's hash slot (`o-<uuid>.s1234`, a payment its order's) so a Redis Cluster keeps
/// them with the deal (`HashSlot`).
public struct RandomIdentifiers: IdentifierGenerator {
    public init() {}
    public func makeOrderID(for deal: DealID) -> OrderID { OrderID(generated: HashSlot.placing("o-" + UUID().uuidString.lowercased(), with: deal)) }
    public func makePaymentID(for order: OrderID) -> PaymentID {
        PaymentID(generated: HashSlot.placing("p-" + UUID().uuidString.lowercased(), like: order.rawValue))
    }
}
