@testable import LiveRedis
import NIOCore
import NIOPosix
import Testing


/// On an event loop a command's flush waits for the end of the loop's turn (`RedisSlot.send`):
/// every command written in the turn still leaves, and each caller gets its own replies, in the
/// order the connection sent them.
@Suite(.enabled(if: Backends.redisURL != nil))
struct RedisPipeliningTests {
    @Test func commandsOfOneLoopTurnAreAllFlushedAndAnsweredInOrder() async throws {
        let pool = try await Backends.redisPool()
        let prefix = Backends.uniquePrefix()
        let counter = "\(prefix):counter", list = "\(prefix):list"
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let replies: [EventLoopFuture<[RedisReply]>] = try await loop.submit {
            let slot = pool.slot()
            #expect(slot.eventLoop === loop, "a caller on an event loop uses that loop's connection")
            guard let channel = slot.connectedChannel else { return [] }
            // Replies nobody waits for (on any of the loop's connections), and replies somebody does
            // (on this one), interleaved in one turn.
            return (1...200).compactMap { i in
                if i % 2 == 0 { pool.sendWithoutReply([["RPUSH", list, String(i)]]) }
                let promise = loop.makePromise(of: [RedisReply].self)
                slot.send(RedisRequest(commands: [["INCR", counter], ["GET", counter]], promise: promise), on: channel)
                return promise.futureResult
            }
        }.get()
        #expect(replies.count == 200)
        for (i, reply) in replies.enumerated() {
            let pair = try await reply.get()
            #expect(pair == [.integer(Int64(i + 1)), .string(String(i + 1))])
        }
        let pushed = try await pool.send(["LRANGE", list, "0", "-1"]).array.compactMap(\.string)
        #expect(Set(pushed) == Set((1...100).map { String($0 * 2) }) && pushed.count == 100)
    }
}
