/// An aggregate the writer keeps a read model of, rebuilt from its own stream.
public protocol Projected: Sendable, Identifiable where ID: Comparable & Sendable {
    associatedtype Event: Sendable
    var version: Int { get }
    static func stream(_ id: ID) -> StreamID
    /// The aggregate and event an envelope of this kind of stream carries, or nil.
    static func event(_ envelope: EventEnvelope) -> (id: ID, event: Event)?
    init(replaying events: [(sequence: Int, event: Event)]) throws(ReplayError)
}

extension Order: Projected {
    public static func stream(_ id: OrderID) -> StreamID { .order(id) }
    public static func event(_ envelope: EventEnvelope) -> (id: OrderID, event: OrderEvent)? {
        guard case .order(let id) = envelope.aggregateID, case .order(let event) = envelope.payload else { return nil }
        return (id, event)
    }
}

extension Payment: Projected {
    public static func stream(_ id: PaymentID) -> StreamID { .payment(id) }
    public static func event(_ envelope: EventEnvelope) -> (id: PaymentID, event: PaymentEvent)? {
        guard case .payment(let id) = envelope.aggregateID, case .payment(let event) = envelope.payload else { return nil }
        return (id, event)
    }
}

/// Where a projector reads the stored documents' versions and saves the ones it moved ahead.
public struct ReadModel<Aggregate: Projected>: Sendable {
    let load: @Sendable ([Aggregate.ID]) async throws -> [Aggregate]
    let save: @Sendable ([(Aggregate, Int)]) async throws -> Void

    public init(load: @escaping @Sendable ([Aggregate.ID]) async throws -> [Aggregate], save: @escaping @Sendable ([(Aggregate, Int)]) async throws -> Void) {
        self.load = load
        self.save = save
    }
}

extension ReadModel where Aggregate == Order {
    public static func orders(_ repository: any OrderRepository) -> ReadModel {
        ReadModel(load: { try await repository.orders($0) }, save: { _ = try await repository.save($0.map { (order: $0.0, expectedVersion: $0.1) }) })
    }
}

extension ReadModel where Aggregate == Payment {
    public static func payments(_ repository: any PaymentRepository) -> ReadModel {
        ReadModel(load: { try await repository.payments($0) }, save: { _ = try await repository.save($0.map { (payment: $0.0, expectedVersion: $0.1) }) })
    }
}

/// The writer's projector of orders (and, with the same code, of payments).
public typealias OrderProjector = Projector<Order>

/// Keeps a read model (orders, payments) equal to the event store, whatever order events arrive in.
///
/// The writer appends each batch it consumes to the event store, then hands it here. Every
/// aggregate the batch touched is rebuilt from its whole stream and saved when it is ahead of the
/// stored document. Events of one order travel different ways (its placement in its deal's journal, its
/// payment or cancellation through the request path's outbox), so a later event can arrive in an
/// earlier batch than the placement; it is kept in the event store, and the batch that brings the
/// placement finds it there and rebuilds the order with it.
///
/// Cost: under a sale almost every order in a batch is new. Such an order, whose events in the
/// batch start at its creation without a gap, is rebuilt from the batch alone, after one probe
/// (one round trip for the whole batch) that the store holds no later event of it; reading every
/// stream back instead was the writer's costliest query. Only the others are read back, in one
/// query. An order whose creation has not arrived yet is left for the batch that brings it.
public struct Projector<Aggregate: Projected>: Sendable {
    let events: any EventStore
    let readModel: ReadModel<Aggregate>

    public init(events: any EventStore, readModel: ReadModel<Aggregate>) {
        self.events = events
        self.readModel = readModel
    }

    public typealias Pairs = [(sequence: Int, event: Aggregate.Event)]

    /// A stream whose events do not all replay: why, and the sequence of the first event that
    /// does not (it and the events after it are left for the caller to report).
    public struct Unreplayable: Error, Sendable {
        public var error: ReplayError
        public var from: Int
    }

    /// Saves every order `batch` (already appended to the event store) moved ahead. Returns the
    /// orders whose stored events do not replay (a corrupt or out-of-contract stream): each is
    /// saved as far as its events replay, and reported from the first that does not.
    @discardableResult
    public func project(_ batch: [EventEnvelope]) async throws -> [Aggregate.ID: Unreplayable] {
        var inBatch: [Aggregate.ID: Pairs] = [:]
        for envelope in batch {
            guard let (id, event) = Aggregate.event(envelope) else { continue }
            inBatch[id, default: []].append((envelope.sequence, event))
        }
        guard !inBatch.isEmpty else { return [:] }
        let touched = inBatch.keys.sorted()
        var fromBatch: [Aggregate.ID: Pairs] = [:]
        var fromStore: [Aggregate.ID] = []
        for id in touched {
            let pairs = Self.ordered(inBatch[id, default: []])
            if Self.isWholeStream(pairs) { fromBatch[id] = pairs } else { fromStore.append(id) }
        }
        // A later event of a batch-built order that arrived before it makes that order a store read.
        let next = fromBatch.map { id, pairs in (id, Aggregate.stream(id).eventID(pairs.count + 1)) }
        let later = try await events.stored(next.map(\.1))
        for (id, eventID) in next where later.contains(eventID) {
            fromBatch[id] = nil
            fromStore.append(id)
        }
        let streams = fromStore.isEmpty ? [:] : try await events.read(fromStore.map { Aggregate.stream($0) })
        var stored: [Aggregate.ID: Int] = [:]
        for document in try await readModel.load(touched) { stored[document.id] = document.version }
        var saves: [(Aggregate, Int)] = []
        var unreplayable: [Aggregate.ID: Unreplayable] = [:]
        for id in touched {
            let pairs = fromBatch[id] ?? Self.ordered((streams[Aggregate.stream(id)] ?? []).compactMap { e -> (sequence: Int, event: Aggregate.Event)? in
                Aggregate.event(e).map { (e.sequence, $0.event) }
            })
            // No creation yet, or a gap: a later batch brings what is missing and rebuilds it.
            guard Self.isWholeStream(pairs) else { continue }
            // A stream with an event out of contract: the read model takes what replays before it.
            var replayed: Aggregate?
            do {
                replayed = try Aggregate(replaying: pairs)
            } catch {
                // The longest prefix that replays, and the first event past it.
                let good = (1..<pairs.count).reversed().lazy.compactMap { n in (try? Aggregate(replaying: Array(pairs.prefix(n)))).map { (n, $0) } }.first
                unreplayable[id] = Unreplayable(error: error, from: pairs[good?.0 ?? 0].sequence)
                replayed = good?.1
            }
            let version = stored[id] ?? 0
            if let replayed, replayed.version > version { saves.append((replayed, version)) }
        }
        // A conflict means another writer saved it meanwhile; its stream rebuilds it next time.
        if !saves.isEmpty { try await readModel.save(saves) }
        return unreplayable
    }

    /// In sequence order, each sequence once.
    static func ordered(_ pairs: Pairs) -> Pairs {
        var seen = Set<Int>()
        return pairs.sorted { $0.sequence < $1.sequence }.filter { seen.insert($0.sequence).inserted }
    }

    /// Whether `pairs` run from sequence 1 without a gap.
    public static func isWholeStream(_ pairs: Pairs) -> Bool {
        pairs.first?.sequence == 1 && pairs.enumerated().allSatisfy { $0.offset + 1 == $0.element.sequence }
    }
}
