import Live
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The server's tasks on the event loops (`EventLoopTaskExecutor`): a call into a function that
/// must run on the concurrent executor, as the libraries' nonisolated async functions do, runs
/// straight through on the loop instead of being queued again behind what the loop already
/// holds. Queued again, a lock held across such a call (swift-async-algorithms' `merge`) waits on
/// every job ahead of it: the writer hung on it for good.
@Suite struct EventLoopTaskExecutorTests {
    /// Nothing in it suspends: entering it is the only chance to hop.
    @concurrent static func straightThrough(_ loop: any EventLoop) async -> Bool { loop.inEventLoop }

    final class Marker: Sendable {
        let set = Atomic(false)
    }

    @Test func concurrentCallsRunStraightThroughOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopTaskExecutor(group: group)
        let (onLoop, overtaken) = try await withTaskExecutorPreference(executor) {
            let loop = try #require(MultiThreadedEventLoopGroup.currentEventLoop, "the preferred executor runs the task on an event loop")
            var onLoop = 0, overtaken = 0
            for _ in 0..<200 {
                // A job queued on the loop now runs before the call's body only if the call hops.
                let marker = Marker()
                loop.execute { marker.set.store(true, ordering: .relaxed) }
                if await Self.straightThrough(loop) { onLoop += 1 }
                if marker.set.load(ordering: .relaxed) { overtaken += 1 }
                // Let the marker run before the next round.
                try await loop.submit {}.get()
            }
            return (onLoop, overtaken)
        }
        #expect(onLoop == 200 && overtaken == 0, "\(onLoop) calls on the loop, \(overtaken) overtaken by a job queued before them")
        try await group.shutdownGracefully()
    }

    /// A wait on the loop's timer (the payment provider's latency) resumes on the loop it started
    /// on, after at least its duration. Dispatch's timer (`Task.sleep`) would hand the task back
    /// from one of its own threads, and the executor would then give it the group's next loop.
    @Test func sleepResumesOnTheLoopItStartedOnAfterItsDuration() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let executor = EventLoopTaskExecutor(group: group)
        let clock = ContinuousClock()
        let (sameLoop, early) = try await withTaskExecutorPreference(executor) {
            var sameLoop = 0, early = 0
            for _ in 0..<40 {
                let loop = try #require(MultiThreadedEventLoopGroup.currentEventLoop)
                let start = clock.now
                try await EventLoopTaskExecutor.sleep(for: .milliseconds(2))
                if clock.now - start < .milliseconds(2) { early += 1 }
                if MultiThreadedEventLoopGroup.currentEventLoop === loop { sameLoop += 1 }
            }
            return (sameLoop, early)
        }
        #expect(sameLoop == 40 && early == 0, "\(sameLoop) of 40 waits resumed on their loop, \(early) ended early")
        try await group.shutdownGracefully()
    }

    /// Cancelled while it waits, the wait ends at once with `CancellationError`, as `Task.sleep`'s
    /// does: a wait that ignored it would hold the test to its time limit.
    @Test(.timeLimit(.minutes(1))) func cancellingTheTaskEndsTheWait() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopTaskExecutor(group: group)
        let waiting = Marker()
        let task = Task(executorPreference: executor) {
            waiting.set.store(true, ordering: .relaxed)
            try await EventLoopTaskExecutor.sleep(for: .seconds(120))
        }
        while !waiting.set.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(1)) }
        // The task is in the wait (or about to arm it: then it finds itself cancelled).
        try await group.next().submit {}.get()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        try await group.shutdownGracefully()
    }
}
