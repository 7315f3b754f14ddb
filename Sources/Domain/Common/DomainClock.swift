/// Where the Domain's use cases get the current instant from.
///
/// The server injects the wall clock, tests a manual clock, the simulator its virtual clock.
public protocol DomainClock: Sendable {
    func now() async -> Instant
}

/// Makes new identifiers for orders and payments. Injected so tests and the simulator
/// get deterministic identifiers.
public protocol IdentifierGenerator: Sendable {
    func makeOrderID() async -> OrderID
    func makePaymentID() async -> PaymentID
}
