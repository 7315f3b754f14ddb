import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// Blocking calls have one home (`BlockingCalls`): with MongoDB and the broker both frozen
/// (`SIGSTOP`, so every call to them hangs until its time-out) and forty requests waiting on
/// MongoDB, orders, which need only Redis, are still placed and answered, and so is liveness.
/// MongoDB, the broker and Redis's keys are the test's own.
@Suite(.enabled(if: Backends.allThere && Backends.tansu != nil && Backends.python != nil))
struct FrozenBackendsTests {
    @Test func aFrozenMongoDBAndBrokerDoNotHoldUpTheRequestPath() async throws {
        let brokerPort = Int.random(in: 20_500...20_699), mongoPort = Int.random(in: 27_500...27_699)
        let broker = try Broker(port: brokerPort)
        defer { broker.kill() }
        let mongo = try Secantus(port: mongoPort)
        defer { mongo.kill() }
        var configuration = try Backends.liveConfiguration(brokers: "127.0.0.1:\(brokerPort)")
        configuration.mongo.uri = "mongodb://127.0.0.1:\(mongoPort)/frozen"
        let sale = try await LiveSale(stock: 100, limit: 2, configuration: configuration)
        #expect(try await sale.place([("u-0", 1, "k-0")]).count == 1)

        for process in [broker.process, mongo.process] { kill(process.processIdentifier, SIGSTOP) }
        defer { for process in [broker.process, mongo.process] { kill(process.processIdentifier, SIGCONT) } }
        let app = sale.app
        // Catalogue reads Redis does not hold go to MongoDB and hang there until their time-out.
        let finished = Mutex(false)
        let waiting = Task {
            defer { finished.withLock { $0 = true } }
            try await app.test(.router) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for n in 0..<40 {
                        group.addTask {
                            let query = "{ product(id: \\\"missing-\(n)\\\") { name } }"
                            _ = try await client.execute(
                                uri: "/graphql", method: .post, headers: [.contentType: "application/json"],
                                body: ByteBuffer(string: "{\"query\": \"\(query)\"}")) { $0.status }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        let placed = try await sale.place((1...20).map { (user: "u-\($0)", quantity: 1, key: "k-\($0)") })
        let live = try await app.test(.router) { client in try await client.execute(uri: "/health/live", method: .get) { $0.status } }
        let took = ContinuousClock.now - started
        let stillWaiting = !finished.withLock { $0 }
        #expect(stillWaiting, "the catalogue reads were still waiting on MongoDB")
        #expect(placed.count == 20, "orders need only Redis")
        #expect(live == .ok)
        // MongoDB's calls time out after 5 s each, sixteen at a time: waiting on them would take
        // far longer than this.
        #expect(took < .seconds(4), "placed while MongoDB and the broker were frozen in \(took)")
        for process in [broker.process, mongo.process] { kill(process.processIdentifier, SIGCONT) }
        _ = try? await waiting.value
    }
}

/// A SecantusDB of the test's own (storage in a temporary folder).
struct Secantus {
    let own: OwnBackend
    var process: Process { own.process }

    init(port: Int) throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("secantus-\(port)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        own = try OwnBackend(
            executable: try #require(Backends.python),
            arguments: ["-m", "secantus", "--host", "127.0.0.1", "--port", "\(port)", "--storage-path", storage.path, "--log-level", "WARNING"],
            port: port)
    }

    func kill() { own.kill() }
}
