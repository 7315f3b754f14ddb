public import Domain
import LiveRuntime

/// The payment provider's latency: each charge and refund waits `latency` before the provider
/// answers (what `--payment-latency-ms` sets; the simulator models the same stage). Each call is a
/// client span (`charge payment-provider`, `refund payment-provider`) tagged with the payment's id
/// and, for a charge, its outcome. The wait runs on the request's event loop's timer
/// (``EventLoopTaskExecutor/sleep(for:)``), where a real provider's reply would arrive.
public struct ProviderLatency: PaymentGateway {
    let gateway: any PaymentGateway
    let latency: Duration

    public init(gateway: any PaymentGateway, latency: Duration) {
        self.gateway = gateway
        self.latency = latency
    }

    public func charge(_ payment: PaymentID, amount: Money, idempotencyKey: IdempotencyKey) async throws -> ChargeResult {
        try await withChildSpan("charge payment-provider", ofKind: .client) { span in
            span?.attributes["flashdeal.payment.id"] = payment.rawValue
            if latency > .zero { try await EventLoopTaskExecutor.sleep(for: latency) }
            let result = try await gateway.charge(payment, amount: amount, idempotencyKey: idempotencyKey)
            span?.attributes["flashdeal.payment.outcome"] = if case .approved = result { "approved" } else { "declined" }
            return result
        }
    }

    public func refund(_ payment: PaymentID, amount: Money) async throws {
        try await withChildSpan("refund payment-provider", ofKind: .client) { span in
            span?.attributes["flashdeal.payment.id"] = payment.rawValue
            if latency > .zero { try await EventLoopTaskExecutor.sleep(for: latency) }
            try await gateway.refund(payment, amount: amount)
        }
    }
}
