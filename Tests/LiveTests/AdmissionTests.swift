import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LiveAPI
import Testing

/// Load shedding: at most `workers` requests run, `queue` more wait, the rest and the ones that
/// waited too long are answered 503 at once.
@Suite struct AdmissionTests {
    @Test func workersThenQueueThenRefusal() async throws {
        let gate = AdmissionGate(.init(workers: 1, queue: 1, timeout: .seconds(60)))
        #expect(await gate.acquire() == .admitted)
        let waiting = Task { await gate.acquire() }
        while gate.load.waiting < 1 { await Task.yield() }
        // The one place in the queue is taken: the next is refused without waiting.
        #expect(await gate.acquire() == .queueFull)
        #expect(gate.load == (1, 1))
        gate.release()  // the worker passes to the waiter
        #expect(await waiting.value == .admitted)
        #expect(gate.load == (1, 0))
        gate.release()
        #expect(gate.load == (0, 0))
    }

    @Test func aRequestThatWaitedTooLongIsRefusedWhenItsTurnComes() async throws {
        let clock = ManualInstant()
        let gate = AdmissionGate(.init(workers: 1, queue: 4, timeout: .milliseconds(20)), now: { clock.now })
        #expect(await gate.acquire() == .admitted)
        let stale = Task { await gate.acquire() }
        while gate.load.waiting < 1 { await Task.yield() }
        clock.advance(.milliseconds(30))
        let fresh = Task { await gate.acquire() }
        while gate.load.waiting < 2 { await Task.yield() }
        clock.advance(.milliseconds(10))
        gate.release()
        // The stale waiter (40 ms) is refused; the worker goes to the fresh one (10 ms).
        #expect(await stale.value == .timedOut)
        #expect(await fresh.value == .admitted)
        #expect(gate.load == (1, 0))
        gate.release()
        #expect(gate.load == (0, 0))
    }

    @Test func manyConcurrentRequestsNeverExceedTheWorkers() async throws {
        let gate = AdmissionGate(.init(workers: 3, queue: 1000, timeout: .seconds(60)))
        let peak = PeakCounter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    _ = await gate.run({
                        peak.enter()
                        await Task.yield()
                        peak.leave()
                        return true
                    }, refused: { _ in false })
                }
            }
        }
        #expect(peak.peak <= 3 && peak.peak >= 1)
        #expect(gate.load == (0, 0))
    }

    @Test func theRouteAnswers503WithRetryAfterAndHealthStillAnswers() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop, configuration: .init(admission: .init(workers: 1, queue: 0, timeout: .seconds(1))))
        let gate = try #require(router.gate)
        // Hold the one worker, as a long request would.
        #expect(await gate.acquire() == .admitted)
        let app = Application(router: router.router())
        try await app.test(.router) { client in
            let body = ByteBuffer(string: #"{"query":"{ deals(first: 1) { edges { cursor } } }"}"#)
            try await client.execute(uri: "/graphql", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                #expect(String(buffer: response.body).contains("at capacity"))
            }
            try await client.execute(uri: "/health/live", method: .get) { #expect($0.status == .ok) }
            // The gate's load is on /metrics: the held worker running, nobody waiting.
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("flashdeal_admission_requests_running 1") && text.contains("flashdeal_admission_requests_waiting 0"), "\(text)")
            }
            gate.release()
            try await client.execute(uri: "/graphql", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"flashdeal_http_shed_requests_total{reason="queue_full"} 1"#))
                #expect(text.contains("flashdeal_admission_requests_running 0"), "the worker is back")
            }
        }
    }
}

final class PeakCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private(set) var peak = 0

    func enter() { lock.withLock { current += 1; peak = max(peak, current) } }
    func leave() { lock.withLock { current -= 1 } }
}

final class ManualInstant: @unchecked Sendable {
    private let lock = NSLock()
    private var instant = ContinuousClock.now

    var now: ContinuousClock.Instant { lock.withLock { instant } }
    func advance(_ by: Duration) { lock.withLock { instant += by } }
}
