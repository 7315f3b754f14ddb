/// Where the Domain's use cases get the current instant from.
///
/// The server injects the wall clock, tests a manual clock, the simulator its virtual clock.
public protocol DomainClock: Sendable {
    func now() async -> Instant
}

/// Makes new identifiers for orders and payments. Injected so tests and the simulator
/// get deterministic identifiers.
///
/// An id is made for the deal it belongs to: a generator may carry the deal's partition in it, so
/// a store read by id alone finds the order (and its payment) beside the deal's stock. The live
/// server's ids name the deal's Redis Cluster hash slot; the in-memory ones ignore it.
public protocol IdentifierGenerator: Sendable {
    func makeOrderID(for deal: DealID) async -> OrderID
    func makePaymentID(for order: OrderID) async -> PaymentID
}
