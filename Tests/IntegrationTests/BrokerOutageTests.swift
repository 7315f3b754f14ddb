import Domain
import Foundation
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
    let own: OwnBackend
    var process: Process { own.process }

    init(port: Int) throws {
        let url = "tcp://127.0.0.1:\(port)"
        own = try OwnBackend(
            executable: try #require(Backends.tansu),
            arguments: ["broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"], port: port)
    }

    func kill() { own.kill() }

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

/// A backend process of a test's own, ready once its port accepts connections (within 20 s).
struct OwnBackend {
    let process: Process

    init(executable: String, arguments: [String], port: Int) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if Broker.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill()
        throw BrokerDidNotStart(port: port)
    }

    /// SIGKILL (after SIGCONT, for a process a test stopped): a child of Foundation's Process may
    /// not see SIGTERM.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
