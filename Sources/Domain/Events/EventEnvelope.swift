/// The one versioned envelope every domain event travels in: to the event store, to Kafka, to
/// subscribers.
///
/// JSON shape: `{"eventId","type","aggregateId","sequence","occurredAt","schemaVersion","payload"}`,
/// where `occurredAt` is nanoseconds since the Unix epoch and `payload` is the event's own fields.
public struct EventEnvelope: Hashable, Sendable {
    /// The schema version written by this code. Readers accept this version and older.
    public static let currentSchemaVersion = 1

    /// `aggregateId#sequence`: unique, and the same when an event is delivered twice, so
    /// consumers deduplicate by it.
    public var eventID: String { aggregateID.eventID(sequence) }
    public var type: String { payload.typeName }
    public var aggregateID: StreamID
    public var sequence: Int
    public var occurredAt: Instant
    public var schemaVersion: Int
    public var payload: DomainEvent
    /// What travels beside the event and is no part of it: a transport's headers (the W3C trace
    /// context the live server's Kafka messages carry). Not in the envelope's JSON, not compared.
    public var headers: [String: String] = [:]

    public init(
        aggregateID: StreamID, sequence: Int, occurredAt: Instant, schemaVersion: Int = Self.currentSchemaVersion,
        payload: DomainEvent
    ) {
        self.aggregateID = aggregateID
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.schemaVersion = schemaVersion
        self.payload = payload
    }
}

/// Equal when the event is: the ``EventEnvelope/headers`` a transport carried are left out.
extension EventEnvelope {
    public static func == (a: Self, b: Self) -> Bool {
        (a.aggregateID, a.sequence, a.occurredAt, a.schemaVersion) == (b.aggregateID, b.sequence, b.occurredAt, b.schemaVersion) && a.payload == b.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(aggregateID)
        hasher.combine(sequence)
        hasher.combine(occurredAt)
        hasher.combine(schemaVersion)
        hasher.combine(payload)
    }
}

extension EventEnvelope: Codable {
    enum CodingKeys: String, CodingKey {
        case eventID = "eventId", type, aggregateID = "aggregateId", sequence, occurredAt, schemaVersion, payload
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let aggregate = try c.decode(String.self, forKey: .aggregateID)
        aggregateID = try StreamID(parsing: aggregate)
        sequence = try c.decode(Int.self, forKey: .sequence)
        occurredAt = try c.decode(Instant.self, forKey: .occurredAt)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion >= 1, schemaVersion <= Self.currentSchemaVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .schemaVersion, in: c,
                debugDescription: "schema version \(schemaVersion) is not between 1 and \(Self.currentSchemaVersion)")
        }
        let type = try c.decode(String.self, forKey: .type)
        func p<T: Decodable>(_: T.Type) throws -> T { try c.decode(T.self, forKey: .payload) }
        switch type {
        case "ProductCreated": payload = .product(try p(ProductCreated.self))
        case "DealScheduled": payload = .deal(.scheduled(try p(DealScheduled.self)))
        case "DealStarted": payload = .deal(.started(try p(DealStarted.self)))
        case "DealSoldOut": payload = .deal(.soldOut(try p(DealSoldOut.self)))
        case "DealReopened": payload = .deal(.reopened(try p(DealReopened.self)))
        case "DealEnded": payload = .deal(.ended(try p(DealEnded.self)))
        case "InventoryCreated": payload = .inventory(.created(try p(InventoryCreated.self)))
        case "StockReserved": payload = .inventory(.reserved(try p(StockReserved.self)))
        case "StockConfirmed": payload = .inventory(.confirmed(try p(StockConfirmed.self)))
        case "StockReleased": payload = .inventory(.released(try p(StockReleased.self)))
        case "StockExpired": payload = .inventory(.expired(try p(StockExpired.self)))
        case "StockReturned": payload = .inventory(.returned(try p(StockReturned.self)))
        case "StockRestocked": payload = .inventory(.restocked(try p(StockRestocked.self)))
        case "OrderPlaced": payload = .order(.placed(try p(OrderPlaced.self)))
        case "OrderPaid": payload = .order(.paid(try p(OrderPaid.self)))
        case "OrderCancelled": payload = .order(.cancelled(try p(OrderCancelled.self)))
        case "OrderExpired": payload = .order(.expired(try p(OrderExpired.self)))
        case "OrderRefunded": payload = .order(.refunded(try p(OrderRefunded.self)))
        case "PaymentRequested": payload = .payment(.requested(try p(PaymentRequested.self)))
        case "PaymentCompleted": payload = .payment(.completed(try p(PaymentCompleted.self)))
        case "PaymentFailed": payload = .payment(.failed(try p(PaymentFailed.self)))
        case "PaymentRefunded": payload = .payment(.refunded(try p(PaymentRefunded.self)))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown event type '\(type)'")
        }
        let written = try c.decode(String.self, forKey: .eventID)
        guard written == eventID else {
            throw DecodingError.dataCorruptedError(
                forKey: .eventID, in: c, debugDescription: "event id '\(written)' is not '\(eventID)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(type, forKey: .type)
        try c.encode(aggregateID.description, forKey: .aggregateID)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(occurredAt, forKey: .occurredAt)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        switch payload {
        case .product(let e): try c.encode(e, forKey: .payload)
        case .deal(.scheduled(let e)): try c.encode(e, forKey: .payload)
        case .deal(.started(let e)): try c.encode(e, forKey: .payload)
        case .deal(.soldOut(let e)): try c.encode(e, forKey: .payload)
        case .deal(.reopened(let e)): try c.encode(e, forKey: .payload)
        case .deal(.ended(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.created(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.reserved(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.confirmed(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.released(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.expired(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.returned(let e)): try c.encode(e, forKey: .payload)
        case .inventory(.restocked(let e)): try c.encode(e, forKey: .payload)
        case .order(.placed(let e)): try c.encode(e, forKey: .payload)
        case .order(.paid(let e)): try c.encode(e, forKey: .payload)
        case .order(.cancelled(let e)): try c.encode(e, forKey: .payload)
        case .order(.expired(let e)): try c.encode(e, forKey: .payload)
        case .order(.refunded(let e)): try c.encode(e, forKey: .payload)
        case .payment(.requested(let e)): try c.encode(e, forKey: .payload)
        case .payment(.completed(let e)): try c.encode(e, forKey: .payload)
        case .payment(.failed(let e)): try c.encode(e, forKey: .payload)
        case .payment(.refunded(let e)): try c.encode(e, forKey: .payload)
        }
    }
}
