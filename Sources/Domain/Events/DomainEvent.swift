/// Every fact the Domain records, grouped by the aggregate it belongs to.
public enum DomainEvent: Hashable, Sendable {
    case product(ProductCreated)
    case deal(DealEvent)
    case inventory(InventoryEvent)
    case order(OrderEvent)
    case payment(PaymentEvent)

    /// The stable type name written into the envelope (`OrderPlaced`, `StockReserved`, ...).
    public var typeName: String {
        switch self {
        case .product: "ProductCreated"
        case .deal(.scheduled): "DealScheduled"
        case .deal(.started): "DealStarted"
        case .deal(.soldOut): "DealSoldOut"
        case .deal(.reopened): "DealReopened"
        case .deal(.ended): "DealEnded"
        case .inventory(.created): "InventoryCreated"
        case .inventory(.reserved): "StockReserved"
        case .inventory(.confirmed): "StockConfirmed"
        case .inventory(.released): "StockReleased"
        case .inventory(.expired): "StockExpired"
        case .inventory(.returned): "StockReturned"
        case .inventory(.restocked): "StockRestocked"
        case .order(.placed): "OrderPlaced"
        case .order(.paid): "OrderPaid"
        case .order(.cancelled): "OrderCancelled"
        case .order(.expired): "OrderExpired"
        case .order(.refunded): "OrderRefunded"
        case .payment(.requested): "PaymentRequested"
        case .payment(.completed): "PaymentCompleted"
        case .payment(.failed): "PaymentFailed"
        case .payment(.refunded): "PaymentRefunded"
        }
    }

    /// Every type name, for documentation checks and schema registries.
    public static let typeNames = [
        "ProductCreated", "DealScheduled", "DealStarted", "DealSoldOut", "DealReopened", "DealEnded",
        "InventoryCreated", "StockReserved", "StockConfirmed", "StockReleased", "StockExpired", "StockReturned",
        "StockRestocked", "OrderPlaced", "OrderPaid", "OrderCancelled", "OrderExpired", "OrderRefunded",
        "PaymentRequested", "PaymentCompleted", "PaymentFailed", "PaymentRefunded",
    ]
}

/// The stream (aggregate instance) an event belongs to, written `kind/id`.
public enum StreamID: Hashable, Sendable, Comparable, CustomStringConvertible {
    case product(ProductID)
    case deal(DealID)
    case inventory(DealID)
    case order(OrderID)
    case payment(PaymentID)

    public var description: String {
        switch self {
        case .product(let id): "product/\(id)"
        case .deal(let id): "deal/\(id)"
        case .inventory(let id): "inventory/\(id)"
        case .order(let id): "order/\(id)"
        case .payment(let id): "payment/\(id)"
        }
    }

    /// The id of this stream's event at `sequence` (``EventEnvelope/eventID``).
    public func eventID(_ sequence: Int) -> String { "\(self)#\(sequence)" }

    /// Parses `kind/id`.
    public init(parsing text: String) throws(ValidationError) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError(field: "aggregateId", reason: "must be kind/id") }
        switch parts[0] {
        case "product": self = .product(try ProductID(validating: parts[1], field: "aggregateId"))
        case "deal": self = .deal(try DealID(validating: parts[1], field: "aggregateId"))
        case "inventory": self = .inventory(try DealID(validating: parts[1], field: "aggregateId"))
        case "order": self = .order(try OrderID(validating: parts[1], field: "aggregateId"))
        case "payment": self = .payment(try PaymentID(validating: parts[1], field: "aggregateId"))
        default: throw ValidationError(field: "aggregateId", reason: "has unknown kind '\(parts[0])'")
        }
    }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.description < rhs.description }
}

/// An event with its stream and per-stream sequence number, before it is put in an envelope.
public struct SequencedEvent: Hashable, Sendable {
    public var stream: StreamID
    public var sequence: Int
    public var event: DomainEvent

    public init(stream: StreamID, sequence: Int, event: DomainEvent) {
        self.stream = stream
        self.sequence = sequence
        self.event = event
    }

    /// Wraps the event in the versioned envelope.
    public func envelope(at instant: Instant) -> EventEnvelope {
        EventEnvelope(aggregateID: stream, sequence: sequence, occurredAt: instant, payload: event)
    }
}
