public import Domain

/// The payment provider's latency: each charge and refund waits `latency` before the provider
/// answers (what `--payment-latency-ms` sets; the simulator models the same stage).
public struct ProviderLatency: PaymentGateway {
    let gateway: any PaymentGateway
    let latency: Duration

    public init(gateway: any PaymentGateway, latency: Duration) {
        self.gateway = gateway
        self.latency = latency
    }

    public func charge(_ payment: PaymentID, amount: Money, idempotencyKey: IdempotencyKey) async throws -> ChargeResult {
        if latency > .zero { try await Task.sleep(for: latency) }
        return try await gateway.charge(payment, amount: amount, idempotencyKey: idempotencyKey)
    }

    public func refund(_ payment: PaymentID, amount: Money) async throws {
        if latency > .zero { try await Task.sleep(for: latency) }
        try await gateway.refund(payment, amount: amount)
    }
}
