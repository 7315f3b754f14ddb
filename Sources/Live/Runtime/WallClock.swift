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

/// Order and payment ids from random UUIDs: unique across replicas without coordination.
public struct RandomIdentifiers: IdentifierGenerator {
    public init() {}
    public func makeOrderID() -> OrderID { OrderID(generated: "o-" + UUID().uuidString.lowercased()) }
    public func makePaymentID() -> PaymentID { PaymentID(generated: "p-" + UUID().uuidString.lowercased()) }
}
