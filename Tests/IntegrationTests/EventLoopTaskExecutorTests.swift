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
}
