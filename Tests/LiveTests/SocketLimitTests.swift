import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
@testable import LiveAPI
import LiveRuntime
import Logging
import Testing

/// A WebSocket is held to what HTTP is (the address's bucket, the admission gate) and to caps of
/// its own: sockets per buyer, operations per socket.
@Suite struct SocketLimitTests {
    static func app(_ configuration: ShopRouter.Configuration) async throws -> (some ApplicationProtocol, ShopRouter) {
        let (shop, hub, _) = try await SubscriptionTests.shopWithHub()
        let router = try ShopRouter(shop: shop, configuration: configuration, hub: hub, rateLimiter: InMemoryRateLimiter())
        let app = Application(
            router: router.router(), server: .http1WebSocketUpgrade(webSocketRouter: router.webSocketRouter()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return (app, router)
    }

    /// Opens a socket as `user`, sends `connection_init`, and runs `body` on the messages.
    static func socket(
        _ port: Int, user: String?, _ body: @escaping @Sendable (inout WebSocketInboundMessageStream.AsyncIterator, WebSocketOutboundWriter) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        let bearer = try await user.asyncMap { try await Authenticator.bearer($0) }
        return try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: SubscriptionTests.configuration, logger: Logger(label: "ws")) {
            inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
            let payload = bearer.map { #","payload":{"Authorization":"\#($0)"}"# } ?? ""
            try await outbound.write(.text(#"{"type":"connection_init"\#(payload)}"#))
            try await body(&messages, outbound)
        }
    }

    static let dealQuery = #"{"id":"ID","type":"subscribe","payload":{"query":"{ deal(id: \"deal-sneakers\") { id } }"}}"#
    static let dealUpdates = #"{"id":"ID","type":"subscribe","payload":{"query":"subscription { dealUpdates(dealId: \"deal-sneakers\") { id } }"}}"#

    @Test func aBuyerHoldsAtMostItsCapOfSocketsOnAReplica() async throws {
        let (app, router) = try await Self.app(.init(maxSocketsPerBuyer: 2))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let held = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        _ = try await Self.socket(port, user: "u-1") { messages, _ in
                            let reply = try SubscriptionTests.json(try await messages.next())
                            #expect(reply["type"] as? String == "connection_ack")
                            await held.wait()
                        }
                    }
                }
                while router.sockets.count("buyer:u-1") < 2 { try await Task.sleep(for: .milliseconds(10)) }
                let third = try await Self.socket(port, user: "u-1") { messages, _ in while try await messages.next() != nil {} }
                #expect(third?.closeCode == .unknown(4430), "\(String(describing: third))")
                let other = try await Self.socket(port, user: "u-2") { messages, outbound in
                    let reply = try SubscriptionTests.json(try await messages.next())
                    #expect(reply["type"] as? String == "connection_ack", "another buyer's sockets are their own")
                    try await outbound.close(.normalClosure, reason: nil)
                }
                #expect(other?.closeCode != .unknown(4430))
                await held.open()
                try await group.waitForAll()
            }
            // Closed sockets no longer count.
            while router.sockets.count("buyer:u-1") > 0 { try await Task.sleep(for: .milliseconds(10)) }
            let again = try await Self.socket(port, user: "u-1") { messages, outbound in
                let reply = try SubscriptionTests.json(try await messages.next())
                #expect(reply["type"] as? String == "connection_ack")
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(again?.closeCode != .unknown(4430))
        }
    }

    @Test func aSocketRunsAtMostItsCapOfOperationsAtOnce() async throws {
        let (app, _) = try await Self.app(.init(maxOperationsPerSocket: 2))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await Self.socket(port, user: "u-1") { messages, outbound in
                _ = try await messages.next()  // connection_ack
                for id in ["s1", "s2"] {
                    try await outbound.write(.text(Self.dealUpdates.replacingOccurrences(of: "\"ID\"", with: "\"\(id)\"")))
                    let reply = try SubscriptionTests.json(try await messages.next())
                    #expect(reply["type"] as? String == "next")
                }
                try await outbound.write(.text(Self.dealUpdates.replacingOccurrences(of: "\"ID\"", with: "\"s3\"")))
                let refused = try SubscriptionTests.json(try await messages.next())
                #expect(refused["id"] as? String == "s3" && refused["type"] as? String == "error", "\(refused)")
                #expect(String(describing: refused["payload"] ?? "").contains("at most 2 operations"))
                // One stops; then another may start.
                try await outbound.write(.text(#"{"id":"s1","type":"complete"}"#))
                try await Task.sleep(for: .milliseconds(50))
                try await outbound.write(.text(Self.dealUpdates.replacingOccurrences(of: "\"ID\"", with: "\"s4\"")))
                let started = try SubscriptionTests.json(try await messages.next())
                #expect(started["id"] as? String == "s4" && started["type"] as? String == "next", "\(started)")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func aSocketsOperationsTakeFromTheAddresssBucket() async throws {
        let (app, _) = try await Self.app(.init(addressLimit: .init(rate: 0.001, burst: 2)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await Self.socket(port, user: nil) { messages, outbound in
                _ = try await messages.next()  // connection_ack
                for id in ["q1", "q2"] {
                    try await outbound.write(.text(Self.dealQuery.replacingOccurrences(of: "\"ID\"", with: "\"\(id)\"")))
                    let next = try SubscriptionTests.json(try await messages.next())
                    let complete = try SubscriptionTests.json(try await messages.next())
                    #expect(next["type"] as? String == "next" && complete["type"] as? String == "complete")
                }
                try await outbound.write(.text(Self.dealQuery.replacingOccurrences(of: "\"ID\"", with: "\"q3\"")))
                let refused = try SubscriptionTests.json(try await messages.next())
                #expect(refused["id"] as? String == "q3" && refused["type"] as? String == "error", "\(refused)")
                #expect(String(describing: refused["payload"] ?? "").contains("too many requests from this address"))
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func aSocketsQueriesTakeAPlaceInTheAdmissionGate() async throws {
        // One worker, no queue: while the test holds the worker, a query over the socket is shed
        // as on HTTP; a subscription holds no worker and starts anyway.
        let (app, router) = try await Self.app(.init(admission: .init(workers: 1, queue: 0)))
        let gate = try #require(router.gate)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            #expect(await gate.acquire() == .admitted)
            _ = try await Self.socket(port, user: "u-1") { messages, outbound in
                _ = try await messages.next()  // connection_ack
                try await outbound.write(.text(Self.dealQuery.replacingOccurrences(of: "\"ID\"", with: "\"q1\"")))
                let shed = try SubscriptionTests.json(try await messages.next())
                #expect(shed["id"] as? String == "q1" && shed["type"] as? String == "error", "\(shed)")
                #expect(String(describing: shed["payload"] ?? "").contains("busy"))
                try await outbound.write(.text(Self.dealUpdates.replacingOccurrences(of: "\"ID\"", with: "\"s1\"")))
                let update = try SubscriptionTests.json(try await messages.next())
                #expect(update["id"] as? String == "s1" && update["type"] as? String == "next", "\(update)")
                gate.release()
                try await outbound.write(.text(Self.dealQuery.replacingOccurrences(of: "\"ID\"", with: "\"q2\"")))
                var kinds: [String] = []
                while kinds.last != "complete" && kinds.last != "error" {
                    let message = try SubscriptionTests.json(try await messages.next())
                    if message["id"] as? String == "q2" { kinds.append(message["type"] as? String ?? "") }
                }
                #expect(kinds == ["next", "complete"], "the worker is free again: \(kinds)")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }
}

/// Holds tasks until opened.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        for continuation in waiting { continuation.resume() }
        waiting.removeAll()
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
