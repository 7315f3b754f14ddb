import Domain
import Foundation
import Live
import Testing

/// The window the issue names ("stock taken in Redis, Kafka send failed, user told success"),
/// closed by the outbox: a broker of the test's own is killed mid-sale, the sale goes on (requests
/// never wait on Kafka), the relay's sends fail and the entries wait in Redis; the broker comes back
/// and every order acknowledged to a buyer, before and during the outage, reaches MongoDB.
@Suite(.enabled(if: Backends.allThere && Backends.tansu != nil))
struct BrokerOutageTests {
    @Test func ordersAcknowledgedWhileTheBrokerIsDownReachMongoDB() async throws {
        let port = Int.random(in: 19_500...19_899)
        var broker = try Broker(port: port)
        defer { broker.kill() }
        let sale = try await LiveSale(stock: 300, limit: 2, brokers: "127.0.0.1:\(port)")

        let before = try await sale.place((0..<100).map { (user: "early-\($0)", quantity: 1, key: "k-\($0)") })
        #expect(before.count == 100)
        #expect(try await sale.deliver(before.map(\.orderID), within: .seconds(60)) == before.count)

        broker.kill()
        let during = try await sale.place((0..<100).map { (user: "late-\($0)", quantity: 1, key: "k-\($0)") })
        #expect(during.count == 100, "the sale goes on while the broker is down")
        let relay = try #require(sale.composition.relay)
        await #expect(throws: (any Error).self, "a send to a dead broker fails") { try await relay.relayOnce() }

        broker = try Broker(port: port)
        #expect(try await sale.deliver((before + during).map(\.orderID), within: .seconds(120)) == before.count + during.count)
        let stock = try #require(try await sale.shop.ports.ledger.stock(sale.dealID))
        #expect(stock.inventory.reserved == 200 && stock.inventory.available == 100, "no unit leaked: \(stock.inventory)")
    }
}

/// A tansu broker (memory storage) on a port of its own.
struct Broker {
    let process: Process

    init(port: Int) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Backends.tansu))
        let url = "tcp://127.0.0.1:\(port)"
        process.arguments = ["broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when the port accepts connections.
        for _ in 0..<100 {
            if Self.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BrokerDidNotStart(port: port)
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

struct BrokerDidNotStart: Error { var port: Int }
