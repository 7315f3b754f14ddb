/// Keeps the order read model equal to the event store, whatever order events arrive in.
///
/// The writer appends each batch it consumes to the event store, then hands it here. Every order
/// the batch touched is rebuilt from its whole stream and saved when it is ahead of the stored
/// document. Events of one order travel different ways (its placement in its deal's journal, its
/// payment or cancellation through the request path's outbox), so a later event can arrive in an
/// earlier batch than the placement; it is kept in the event store, and the batch that brings the
/// placement finds it there and rebuilds the order with it.
///
/// Cost: under a sale almost every order in a batch is new. Such an order, whose events in the
/// batch start at its creation without a gap, is rebuilt from the batch alone, after one probe
/// (one round trip for the whole batch) that the store holds no later event of it; reading every
/// stream back instead was the writer's costliest query. Only the others are read back, in one
/// query. An order whose creation has not arrived yet is left for the batch that brings it.
public struct OrderProjector: Sendable {
    let events: any EventStore
    let orders: any OrderRepository

    public init(events: any EventStore, orders: any OrderRepository) {
        self.events = events
        self.orders = orders
    }

    public typealias Pairs = [(sequence: Int, event: OrderEvent)]

    /// Saves every order `batch` (already appended to the event store) moved ahead. Returns the
    /// orders whose stored events do not replay (a corrupt or out-of-contract stream), which are
    /// left as they are for the caller to report.
    @discardableResult
    public func project(_ batch: [EventEnvelope]) async throws -> [OrderID: ReplayError] {
        var inBatch: [OrderID: Pairs] = [:]
        for envelope in batch {
            guard case .order(let id) = envelope.aggregateID, case .order(let event) = envelope.payload else { continue }
            inBatch[id, default: []].append((envelope.sequence, event))
        }
        guard !inBatch.isEmpty else { return [:] }
        let touched = inBatch.keys.sorted()
        var fromBatch: [OrderID: Pairs] = [:]
        var fromStore: [OrderID] = []
        for id in touched {
            let pairs = Self.ordered(inBatch[id, default: []])
            if Self.isWholeStream(pairs) { fromBatch[id] = pairs } else { fromStore.append(id) }
        }
        // A later event of a batch-built order that arrived before it makes that order a store read.
        let next = fromBatch.map { id, pairs in (id, StreamID.order(id).eventID(pairs.count + 1)) }
        let later = try await events.stored(next.map(\.1))
        for (id, eventID) in next where later.contains(eventID) {
            fromBatch[id] = nil
            fromStore.append(id)
        }
        let streams = fromStore.isEmpty ? [:] : try await events.read(fromStore.map { StreamID.order($0) })
        var stored: [OrderID: Int] = [:]
        for order in try await orders.orders(touched) { stored[order.id] = order.version }
        var saves: [(order: Order, expectedVersion: Int)] = []
        var unreplayable: [OrderID: ReplayError] = [:]
        for id in touched {
            let pairs = fromBatch[id] ?? Self.ordered((streams[.order(id)] ?? []).compactMap { e -> (sequence: Int, event: OrderEvent)? in
                if case .order(let event) = e.payload { (e.sequence, event) } else { nil }
            })
            // No creation yet, or a gap: a later batch brings what is missing and rebuilds it.
            guard Self.isWholeStream(pairs) else { continue }
            do {
                let order = try Order(replaying: pairs)
                let version = stored[id] ?? 0
                if order.version > version { saves.append((order, version)) }
            } catch {
                unreplayable[id] = error
            }
        }
        // A conflict means another writer saved the order meanwhile; its stream rebuilds it next time.
        _ = try await orders.save(saves)
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
