public import Hummingbird
import Synchronization

/// Load shedding for the GraphQL route, as the simulator's HTTP tier models it
/// (`http.concurrencyPerReplica`, `http.acceptQueue`, `http.requestTimeoutMs`): at most `workers`
/// requests run at once; more wait in a FIFO queue of `queue` places; a full queue is answered 503
/// at once, and a request that waited longer than `timeout` for a worker is answered 503 when its
/// turn comes. Under a spike the server answers the excess quickly instead of letting every
/// request's latency grow with an unbounded backlog. A refused request did nothing: no order was
/// taken, so the client may retry (`Retry-After: 1`).
public final class AdmissionGate: Sendable {
    public struct Limits: Sendable, Hashable {
        public var workers: Int
        public var queue: Int
        public var timeout: Duration

        public init(workers: Int = 256, queue: Int = 2048, timeout: Duration = .seconds(2)) {
            self.workers = workers
            self.queue = queue
            self.timeout = timeout
        }
    }

    /// What a request was told.
    public enum Admission: Sendable, Equatable {
        case admitted
        /// The queue was full.
        case queueFull
        /// It waited longer than the time-out.
        case timedOut
    }

    struct Waiter {
        let since: ContinuousClock.Instant
        let continuation: CheckedContinuation<Admission, Never>
    }

    struct State {
        var running = 0
        var waiting: [Waiter] = []
        var head = 0
        var waitingCount: Int { waiting.count - head }

        mutating func popWaiter() -> Waiter? {
            guard head < waiting.count else { return nil }
            let waiter = waiting[head]
            head += 1
            if head > 1024, head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
            return waiter
        }
    }

    public let limits: Limits
    private let state = Mutex(State())
    /// The time waits are measured with (tests give their own).
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(_ limits: Limits, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        precondition(limits.workers > 0 && limits.queue >= 0)
        self.limits = limits
        self.now = now
    }

    /// Requests running and waiting now.
    public var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waitingCount) } }

    /// Waits for a worker. `.admitted` must be paired with `release()`.
    public func acquire() async -> Admission {
        enum Step { case admitted, full, wait }
        let step: Step = state.withLock { s in
            if s.running < limits.workers {
                s.running += 1
                return .admitted
            }
            return s.waitingCount < limits.queue ? .wait : .full
        }
        switch step {
        case .admitted: return .admitted
        case .full: return .queueFull
        case .wait:
            let since = now()
            return await withCheckedContinuation { continuation in
                let now: Admission? = state.withLock { s in
                    // A worker may have left, or the queue filled, between the two locks.
                    if s.running < limits.workers {
                        s.running += 1
                        return .admitted
                    }
                    guard s.waitingCount < limits.queue else { return .queueFull }
                    s.waiting.append(Waiter(since: since, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        }
    }

    /// A worker is free: it goes to the oldest waiter still within the time-out; older waiters
    /// are answered `.timedOut` on the way.
    public func release() {
        let now = self.now()
        var expired: [Waiter] = []
        let next: Waiter? = state.withLock { s in
            while let waiter = s.popWaiter() {
                if now - waiter.since > limits.timeout {
                    expired.append(waiter)
                } else {
                    return waiter  // the worker passes to it: `running` is unchanged
                }
            }
            s.running -= 1
            return nil
        }
        for waiter in expired { waiter.continuation.resume(returning: .timedOut) }
        next?.continuation.resume(returning: .admitted)
    }

    /// Runs `body` with a worker, or answers why it could not.
    public func run<T>(_ body: () async throws -> T, refused: (Admission) -> T) async rethrows -> T {
        let admission = await acquire()
        guard admission == .admitted else { return refused(admission) }
        defer { release() }
        return try await body()
    }
}

/// The gate in front of the routes it guards (`/graphql`); health and metrics always answer.
struct AdmissionMiddleware: RouterMiddleware {
    typealias Context = ShopRequestContext
    let gate: AdmissionGate
    let metrics: ShopMetrics
    let path: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == path else { return try await next(request, context) }
        return try await gate.run({ try await next(request, context) }) { refusal in
            metrics.shed(refusal == .queueFull ? "queue_full" : "timed_out")
            let reason = refusal == .queueFull
                ? "the server is at capacity: \(gate.limits.workers) requests running and \(gate.limits.queue) waiting"
                : "the request waited longer than \(gate.limits.timeout) for a worker"
            var response = ShopRouter.problem(.serviceUnavailable, reason)
            response.headers[.retryAfter] = "1"
            return response
        }
    }
}
