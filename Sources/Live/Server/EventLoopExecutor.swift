import NIOCore
public import NIOPosix

extension ShopServer {
    /// Makes Swift concurrency's global executor NIO's event loops (the ones Hummingbird serves
    /// on), so a request's handler runs on the thread that read it and answers on it, without the
    /// two thread switches per request (and two per backend round trip) between NIO's threads and
    /// the cooperative pool. Call it first thing in the process, from the main thread, once
    /// (`flashdeal serve` does, unless FLASHDEAL_EVENT_LOOP_EXECUTOR=0). Blocking C calls never run
    /// on it: hiredis, libmongoc and librdkafka's polls run on their own dispatch queues.
    /// Returns whether it took over.
    ///
    /// NIO runs each job it is given this way isolated to the event loop's serial executor, so a
    /// task entering any nonisolated async function first hops: it is queued again behind what the
    /// loop already holds. `run` therefore gives the server's tasks ``EventLoopTaskExecutor`` as
    /// their executor preference; this hook serves the unstructured tasks that have none.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}

/// NIO's event loops as a task executor: a task that prefers it (and every child task it starts)
/// runs each job on the event loop that enqueued it, or the group's next one from any other
/// thread, as a nonisolated job. Nonisolated async code then runs straight through on that loop.
///
/// Run as NIO's global-executor hook runs jobs (isolated to the loop's serial executor), every
/// call into a nonisolated async function was a hop back onto the loop's queue, and code that
/// holds a lock across such a call waits for a job queued behind whatever the loop runs first.
/// swift-async-algorithms 1.1.4's `merge` does (`MergeStorage.next()` keeps its lock until its
/// continuation is stored, "guaranteed to be run straight away"), under Hummingbird's date cache
/// and `cancelOnGracefulShutdown()`: a writer in `make bench-live` hung there for good, both
/// event loops waiting on that lock while the job holding it sat behind one of them
/// (apple/swift-async-algorithms#430). Here nothing hops, so the lock is released before the
/// loop runs anything else.
public final class EventLoopTaskExecutor: TaskExecutor {
    public static let singleton = EventLoopTaskExecutor(group: .singleton)

    let group: MultiThreadedEventLoopGroup

    public init(group: MultiThreadedEventLoopGroup) { self.group = group }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension EventLoopTaskExecutor {
    /// Waits `duration` on the calling event loop's own timer, or with `Task.sleep` off the loops.
    ///
    /// `Task.sleep` waits on Dispatch's timer whatever the task's executor preference: the job is
    /// armed through Dispatch's manager thread and, when due, run on one of its worker threads
    /// before it is handed back to the loop; three threads woken for one wait, each of which waits
    /// for a core on a busy machine. The loop's timer fires in the loop's own turn, as a reply from
    /// a real provider's connection would. Cancelling the task cancels the wait
    /// (`CancellationError`, as `Task.sleep` throws).
    public static func sleep(for duration: Duration) async throws {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return try await Task.sleep(for: duration) }
        try Task.checkCancellation()
        let timer = loop.scheduleTask(in: .nanoseconds(duration.nanoseconds)) {}
        try await withTaskCancellationHandler {
            do {
                try await timer.futureResult.get()
            } catch EventLoopError.cancelled {
                throw CancellationError()
            }
        } onCancel: {
            timer.cancel()
        }
    }
}
