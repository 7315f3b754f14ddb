public import Domain
import Foundation
import LiveRuntime

/// The request path's payment store on the live server: each payment a hash in Redis
/// (`fd:payment:{<slot tag>}:<id>` with its version and JSON, in its deal's hash slot: `RedisKeys`), saved with optimistic concurrency by the same
/// script as orders, kept for `retention`. Payments reach MongoDB's `payments` collection behind
/// Kafka, through their events (the writer's `PaymentProjector`), so paying never waits on
/// MongoDB; reads fall back to it for payments Redis no longer holds.
public struct RedisPaymentRepository: PaymentRepository {
    let pool: RedisPool
    let prefix: String
    let durable: (any PaymentRepository)?
    let retention: Duration
    let script: RedisScript

    public init(pool: RedisPool, prefix: String = "fd", durable: (any PaymentRepository)?, retention: Duration = .seconds(7 * 86_400)) async throws {
        self.pool = pool
        self.prefix = prefix
        self.durable = durable
        self.retention = retention
        script = try await RedisScript(RedisOrderRepository.saveScript, on: pool)
    }

    func key(_ id: PaymentID) -> String { RedisKeys.record(prefix, "payment", id.rawValue) }
    var retentionMs: String { String(retention.components.seconds * 1000) }

    public func save(_ payment: Payment, expectedVersion: Int) async throws {
        let json = try RedisOrderRepository.json(payment)
        try await RedisOrderRepository.save(
            json, version: payment.version, at: key(payment.id), expectedVersion: expectedVersion, stream: "payment/\(payment.id)",
            retentionMs: retentionMs, with: script, on: pool)
    }

    public func payment(_ id: PaymentID) async throws -> Payment? {
        if let json = try await pool.send(["HGET", key(id), "o"]).string {
            do { return try CompactJSONDecoder().decode(Payment.self, from: json) } catch {
                throw RedisError(.protocolError, "payment \(id) in Redis does not decode: \(error)")
            }
        }
        return try await durable?.payment(id)
    }
}
