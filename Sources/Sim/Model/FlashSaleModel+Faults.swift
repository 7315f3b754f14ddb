extension FlashSaleModel {
    // MARK: Faults (the chaos drills' breaks, docs/scenario.md)

    /// When `component` serves again if it is down at `time` (the latest end of the faults that
    /// cover it), else `time` itself.
    func resumes(_ component: Scenario.Fault.Component, at time: Int64? = nil) -> Int64 {
        let t = time ?? calendar.now
        var back = t
        for fault in scenario.faults where fault.component == component && fault.start <= t && t < fault.end {
            back = max(back, fault.end)
        }
        return back
    }

    /// Whether every fault has ended (the run may stop only then).
    var faultsOver: Bool { scenario.faults.allSatisfy { $0.end <= calendar.now } }

    /// What the outbox and Kafka get from a change the gate step made: `entries` written to the
    /// outbox, `messages` events the relay makes of them (as the live server writes them,
    /// `docs/flows.md`).
    static func outboxWrites(_ op: Scenario.Operation, refund: Bool) -> (entries: Int, messages: Int) {
        switch op {
        // The journal's reservation: StockReserved and OrderPlaced.
        case .placeOrder: (1, 2)
        // The journal's confirmation (StockConfirmed), and PaymentCompleted with OrderPaid.
        case .payOrder: (2, 3)
        // The journal's release or return, and OrderCancelled (or PaymentRefunded with OrderRefunded).
        case .cancelOrder: refund ? (2, 3) : (2, 2)
        default: (1, 1)
        }
    }

    /// A fault ends: the writer's relay carries what waited in the outbox.
    mutating func faultEnds(_ f: Int32) {
        if resumes(.writer) <= calendar.now, !heldOutbox.isEmpty {
            let held = heldOutbox
            heldOutbox.removeAll()
            for entry in held { forward(deal: entry.deal, messages: entry.messages, entries: entry.entries, replica: 0) }
        }
        watchFaults()
    }

    /// Follows the outbox and the lag around each fault: the level before it (the 10 s before),
    /// the peaks from its start, and when both are back to that level after its end.
    mutating func watchFaults() {
        let now = calendar.now, outbox = outboxDepth, lag = self.lag
        for (i, fault) in scenario.faults.enumerated() {
            var watch = stats.faults[i]
            if now < fault.start {
                if now >= fault.start - 10_000_000_000 {
                    watch.baselineOutbox = max(watch.baselineOutbox, outbox)
                    watch.baselineLag = max(watch.baselineLag, lag)
                }
            } else if watch.drainedAt == nil {
                watch.outboxPeak = max(watch.outboxPeak, outbox)
                watch.lagPeak = max(watch.lagPeak, lag)
                if now >= fault.end, outbox <= watch.baselineOutbox, lag <= watch.baselineLag { watch.drainedAt = now }
            }
            stats.faults[i] = watch
        }
    }

    /// Counts an answer against the faults whose window (their start until a second after their
    /// end) it arrives in; an answer the API computed while it was killed never leaves it: the
    /// client sees the connection drop, an error.
    mutating func watchAnswer(_ r: Int32, at receivedAt: Int64) {
        let request = requests[r]
        for (i, fault) in scenario.faults.enumerated() {
            if fault.component == .api, request.outcome != .rejected, request.outcome != .shed,
                request.sentAt < fault.start, calendar.now >= fault.start
            {
                requests[r].outcome = .rejected
                stats.errorSeries.add(1, at: calendar.now)
            }
            guard receivedAt >= fault.start, receivedAt <= fault.end + 1_000_000_000 else { continue }
            stats.faults[i].answered += 1
            if requests[r].outcome == .rejected || requests[r].outcome == .shed { stats.faults[i].errors += 1 }
        }
    }
}
