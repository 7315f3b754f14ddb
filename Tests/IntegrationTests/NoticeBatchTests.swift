@testable import LiveRedis
import NIOCore
import NIOPosix
import Synchronization
import Testing


/// The broadcast's batching: the change notices recorded during one turn of an event loop leave as
/// one message, in their order; a later turn starts a new one.
struct NoticeBatchTests {
    @Test func noticesOfOneLoopTurnLeaveTogetherInOrder() async throws {
        let sent = Mutex<[[String]]>([])
        let batch = NoticeBatch { lines in sent.withLock { $0.append(lines) } }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try await loop.submit {
            batch.add(["order/o-1 d-1"])
            batch.add(["inventory/d-1 d-1", "order/o-2 d-1"])
            #expect(sent.withLock { $0.isEmpty }, "nothing leaves before the turn's other work is done")
        }.get()
        try await loop.submit {}.get()  // the send queued behind the first task has run
        #expect(sent.withLock { $0 } == [["order/o-1 d-1", "inventory/d-1 d-1", "order/o-2 d-1"]])

        try await loop.submit { batch.add(["deal/d-1 d-1"]) }.get()
        try await loop.submit {}.get()
        #expect(sent.withLock { $0 }.last == ["deal/d-1 d-1"])
        #expect(sent.withLock { $0.count } == 2)
    }

    @Test func offAnEventLoopTheBatchStillLeaves() async throws {
        let sent = Mutex<[[String]]>([])
        let batch = NoticeBatch { lines in sent.withLock { $0.append(lines) } }
        batch.add(["order/o-9"])
        for _ in 0..<200 where sent.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(sent.withLock { $0 } == [["order/o-9"]])
    }
}
