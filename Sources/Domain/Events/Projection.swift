/// Every aggregate rebuilt from the event log: what `flashdeal replay` restores the read models
/// from, and what tests compare the live state with.
///
/// Events are applied in log order, each stream in its own sequence order: an event ahead of its
/// stream (the log's global order interleaves streams as their events reached the writer, and one
/// order's payment can reach it before its placement) waits until the events before it are applied.
/// A repeated event (same id) is skipped; ``finish()`` reports a stream still waiting on a gap.
public struct Projection: Sendable {
    public private(set) var products: [ProductID: Product] = [:]
    public private(set) var deals: [DealID: FlashDeal] = [:]
    public private(set) var inventories: [DealID: Inventory] = [:]
    public private(set) var orders: [OrderID: Order] = [:]
    public private(set) var payments: [PaymentID: Payment] = [:]
    private var lastSequence: [StreamID: Int] = [:]
    /// Events ahead of their stream, by stream and sequence.
    private var waiting: [StreamID: [Int: EventEnvelope]] = [:]

    public init() {}

    /// Rebuilds from a whole log.
    public init(replaying log: some Sequence<EventEnvelope>) throws(ProjectionError) {
        for envelope in log { try apply(envelope) }
        try finish()
    }

    /// Throws when an event still waits for one before it that never came (a gap in its stream).
    public func finish() throws(ProjectionError) {
        guard let (stream, ahead) = waiting.min(by: { $0.key < $1.key }), let first = ahead.keys.min() else { return }
        throw ProjectionError(stream: stream.description, reason: "sequence \(first) follows \(lastSequence[stream, default: 0])")
    }

    /// The rebuilt gate of a deal, when both its streams have begun.
    public func gate(_ id: DealID) -> StockGate? {
        guard let deal = deals[id], let inventory = inventories[id] else { return nil }
        return StockGate(deal: deal, inventory: inventory)
    }

    public mutating func apply(_ envelope: EventEnvelope) throws(ProjectionError) {
        let stream = envelope.aggregateID
        let last = lastSequence[stream, default: 0]
        if envelope.sequence <= last { return }
        guard envelope.sequence == last + 1 else {
            waiting[stream, default: [:]][envelope.sequence] = envelope
            return
        }
        try applyInOrder(envelope)
        while let next = waiting[stream]?.removeValue(forKey: lastSequence[stream, default: 0] + 1) { try applyInOrder(next) }
        if waiting[stream]?.isEmpty == true { waiting[stream] = nil }
    }

    /// Applies an event that is next in its stream. Events come from outside (the event store,
    /// Kafka): one its aggregate cannot take throws, it never traps.
    private mutating func applyInOrder(_ envelope: EventEnvelope) throws(ProjectionError) {
        let stream = envelope.aggregateID
        let sequence = envelope.sequence
        func replay(_ body: () throws(ReplayError) -> Void) throws(ProjectionError) {
            do { try body() } catch { throw ProjectionError(stream: stream.description, reason: "\(error)") }
        }
        switch (stream, envelope.payload) {
        case (.product, .product(let e)) where sequence == 1:
            products[e.productID] = Product(e)
        case (.deal(let id), .deal(.scheduled(let e))) where sequence == 1:
            deals[id] = FlashDeal(e)
        case (.deal(let id), .deal(let e)) where deals[id] != nil:
            try replay { () throws(ReplayError) in try deals[id]!.applying(e, sequence: sequence) }
        case (.inventory(let id), .inventory(.created(let e))) where sequence == 1:
            inventories[id] = Inventory(e)
        case (.inventory(let id), .inventory(let e)) where inventories[id] != nil:
            try replay { () throws(ReplayError) in try inventories[id]!.applying(e, sequence: sequence) }
        case (.order(let id), .order(.placed(let e))) where sequence == 1:
            orders[id] = Order(e)
        case (.order(let id), .order(let e)) where orders[id] != nil:
            try replay { () throws(ReplayError) in try orders[id]!.applying(e, sequence: sequence) }
        case (.payment(let id), .payment(.requested(let e))) where sequence == 1:
            payments[id] = Payment(e)
        case (.payment(let id), .payment(let e)) where payments[id] != nil:
            try replay { () throws(ReplayError) in try payments[id]!.applying(e, sequence: sequence) }
        default:
            throw ProjectionError(stream: stream.description, reason: "\(envelope.type) cannot apply at sequence \(sequence)")
        }
        lastSequence[stream] = sequence
    }
}

/// An event log that does not replay: a gap, or an event its aggregate cannot take.
public struct ProjectionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var stream: String
    public var reason: String
    public var description: String { "\(stream): \(reason)" }
}
