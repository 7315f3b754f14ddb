import Domain

extension FlashSaleModel {
    /// The stock-gate script: the Domain's `StockGate` decides, at the instant Redis runs it.
    mutating func decideAtGate(_ r: Int32) {
        let request = requests[r]
        let d = Int(request.deal)
        let now = instant
        switch request.op {
        case .placeOrder:
            let candidate = OrderID(generated: "o\(orders.count + 1)")
            let reserve = ReserveRequest(
                orderID: candidate, userID: UserID(generated: "u\(request.user)"), quantity: scenario.traffic.journey.quantity,
                idempotencyKey: IdempotencyKey(generated: "j\(request.serial)"), expiresAt: now + terms[d].reservationTTL)
            let (decision, change) = gates[d].decideReserve(reserve, at: now)
            applyGate(request.deal, change)
            switch decision {
            case .reserve(let reserved):
                let order = Order(OrderPlaced(reserved, terms: terms[d]))
                orderIndex[order.id] = Int32(orders.count)
                requests[r].order = Int32(orders.count)
                orders.append(order)
                requests[r].changed = true
                stats.accepted += 1
            case .duplicate(let first):
                requests[r].order = orderIndex[first.orderID] ?? -1
                stats.duplicates += 1
            case .soldOut, .notActive:
                requests[r].outcome = .business
                stats.soldOutAnswers += 1
            case .limitExceeded, .coolingDown, .reservationCapReached:
                // A buyer's limits: the per-user limit, the cool-down after a cancellation, the
                // reservation cap.
                requests[r].outcome = .business
                stats.limitAnswers += 1
            case .invalidQuantity:
                requests[r].outcome = .business
                stats.invalidAnswers += 1
            }
        case .payOrder:
            let o = Int(request.order)
            let (decision, change) = gates[d].decideConfirm(orders[o].id, at: now)
            applyGate(request.deal, change)
            switch decision {
            case .confirm:
                transition(o, .pay, paymentID: PaymentID(generated: "p\(o)"))
                requests[r].changed = true
                stats.paid += 1
            case .expire:
                transition(o, .expire)
                stats.latePaymentsRefunded += 1
                requests[r].outcome = .business
            case .notReserved:
                stats.latePaymentsRefunded += 1
                requests[r].outcome = .business
            case .alreadyConfirmed:
                requests[r].outcome = .business
            }
        case .cancelOrder:
            let o = Int(request.order)
            switch orders[o].status {
            case .reserved:
                let change = gates[d].decideRelease(orders[o].id, at: now)
                applyGate(request.deal, change)
                if !change.isEmpty { transition(o, .cancel); stats.cancelled += 1; requests[r].changed = true }
            case .paid:
                let change = gates[d].decideReturn(orders[o].id, at: now)
                applyGate(request.deal, change)
                if !change.isEmpty { transition(o, .refund); stats.refunded += 1; requests[r].changed = true }
            default:
                requests[r].outcome = .business
            }
        default:
            break
        }
    }

    /// Applies a Domain order transition (the Domain refuses a forbidden one).
    mutating func transition(_ o: Int, _ trigger: OrderStatus.Trigger, paymentID: PaymentID? = nil) {
        guard let event = orders[o].decide(trigger, at: instant, paymentID: paymentID) else { return }
        orders[o].apply(event, sequence: orders[o].version + 1)
    }

    /// Applies a gate change and keeps the independent counters the oversell check uses.
    mutating func applyGate(_ deal: Int32, _ change: GateChange) {
        guard !change.isEmpty || calendar.now == 0 else { return }
        let d = Int(deal)
        for event in gates[d].apply(change) {
            switch event.event {
            case .inventory(.confirmed(let e)): stats.soldUnits[d] += e.quantity
            case .inventory(.returned(let e)): stats.soldUnits[d] -= e.quantity
            case .inventory(.restocked(let e)): stats.totalUnits[d] += e.quantity
            case .deal(.soldOut):
                if stats.soldOutAt[d] == nil { stats.soldOutAt[d] = calendar.now }
            default: break
            }
        }
        var available = 0, reserved = 0, sold = 0
        for gate in gates {
            available += gate.inventory.available; reserved += gate.inventory.reserved; sold += gate.inventory.sold
        }
        stats.availableSeries.set(Double(available), at: calendar.now)
        stats.reservedSeries.set(Double(reserved), at: calendar.now)
        stats.soldSeries.set(Double(sold), at: calendar.now)
        stats.checkStock(gates)
    }

    /// The reservation-expiry sweeper: the Domain expires every due reservation.
    mutating func sweep() {
        let now = instant
        for d in gates.indices {
            for orderID in gates[d].inventory.dueReservations(at: now) {
                applyGate(Int32(d), gates[d].decideExpire(orderID, at: now))
                if let o = orderIndex[orderID] { transition(Int(o), .expire); stats.expired += 1 }
                // The journal's expiry (StockExpired) and the order's event (OrderExpired), relayed
                // by the writer, where the sweeper runs.
                relay(deal: Int32(d), messages: 2, entries: 2, replica: 0)
            }
        }
        let idle = arrivalsDone && journeys.live == 0 && requests.live == 0
        if !idle {
            calendar.schedule(after: scenario.sweeperInterval, .sweep)
        } else if let next = gates.flatMap({ $0.inventory.reservations.values.map(\.expiresAt) }).min() {
            // Nothing else happens: jump to the next expiry, on the sweeper's tick.
            let ticks = (next.nanosecondsSinceEpoch - calendar.now + scenario.sweeperInterval - 1) / scenario.sweeperInterval
            calendar.schedule(after: max(1, ticks) * scenario.sweeperInterval, .sweep)
        }
    }

    mutating func dealLifecycle(_ deal: Int32, start: Bool) {
        let d = Int(deal)
        applyGate(deal, start ? gates[d].decideStart(at: instant) : gates[d].decideEnd(at: instant))
    }
}
