public import Domain

extension RedisStockLedger {
    /// Replaces a deal's keys with `gate`'s state in one MULTI/EXEC transaction (all in the deal's
    /// hash slot), then lists the deal in `fd:deals`.
    public func restore(_ gate: StockGate) async throws {
        let k = keys(gate.deal.id)
        let i = gate.inventory
        var commands: [[String]] = [["MULTI"], ["DEL"] + k]
        commands.append([
            "HSET", k[0], "status", gate.deal.status.rawValue, "starts", Self.time(gate.terms.startsAt), "ends", Self.time(gate.terms.endsAt),
            "limit", String(gate.terms.perUserLimit), "total", String(i.total), "available", String(i.available),
            "reserved", String(i.reserved), "sold", String(i.sold), "iv", String(i.version), "dv", String(gate.deal.version),
            "cap", String(i.reservationCap), "cool", String(i.cancelCoolDown.nanoseconds),
        ])
        for (order, r) in i.reservations.sorted(by: { $0.key < $1.key }) {
            commands.append(["HSET", k[1], order.rawValue, "\(r.userID)|\(r.quantity)|\(Self.time(r.expiresAt))"])
            commands.append(["ZADD", k[5], String(r.expiresAt.nanosecondsSinceEpoch / 1_000_000), order.rawValue])
        }
        for (order, h) in i.soldOrders.sorted(by: { $0.key < $1.key }) {
            commands.append(["HSET", k[2], order.rawValue, "\(h.userID)|\(h.quantity)"])
        }
        for (user, units) in i.holdings.sorted(by: { $0.key < $1.key }) {
            commands.append(["HSET", k[3], user.rawValue, String(units)])
        }
        for (user, opened) in i.unpaidReservations.sorted(by: { $0.key < $1.key }) {
            commands.append(["HSET", k[3], "u|\(user)", String(opened)])
        }
        for (user, until) in i.coolingUntil.sorted(by: { $0.key < $1.key }) {
            commands.append(["HSET", k[3], "c|\(user)", Self.time(until)])
        }
        for (scope, record) in i.orderForKey.sorted(by: { ($0.key.userID, $0.key.key) < ($1.key.userID, $1.key.key) }) {
            commands.append([
                "HSET", k[4], "\(scope.userID)|\(scope.key)",
                "\(record.orderID)|\(record.quantity)|\(Self.time(record.reservedAt))|\(Self.time(record.expiresAt))",
            ])
        }
        commands.append(["EXEC"])
        // One caller's pipeline goes out back to back: MULTI … EXEC stays whole.
        for reply in try await pool.pipeline(commands) { _ = try reply.unlessError() }
        // The list of deals is in a hash slot of its own (on a Redis Cluster, most likely another
        // primary): listed after the gate is whole, as `create` does.
        _ = try await pool.send(["SADD", dealsKey, gate.deal.id.rawValue])
    }

    /// Removes a deal's keys (what a replay rebuilds; tests use it).
    public func drop(_ deal: DealID) async throws {
        _ = try await pool.send(["DEL"] + keys(deal))
    }
}
