import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Live
import LiveAPI
import Logging
import NIOCore
import Synchronization
import Testing

/// The process's logs as a log pipeline reads them: one JSON object a line, and an access-log line
/// per request naming its id, operation and outcome, never its credentials.
@Suite struct LoggingTests {
    final class Captured: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: [UInt8]) { lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) } }
        var objects: [[String: Any]] {
            lines.withLock { $0 }.map { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["unparsed": line]
            }
        }
        var text: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    static func logger(_ captured: Captured, level: Logger.Level = .info) -> Logger {
        Logger(label: "flashdeal") { label in JSONLogHandler(label: label, level: level, write: captured.append) }
    }

    @Test func everyEntryIsOneJSONObjectWithItsMetadata() throws {
        let captured = Captured()
        var logger = Self.logger(captured, level: .notice)
        logger[metadataKey: "hb.request.id"] = "r-1"
        logger.info("below the level")
        logger.error("a \"quoted\"\nmessage", metadata: ["flashdeal.deal.id": "d-1", "nested": ["a": ["1", "2"]]])
        let objects = captured.objects
        #expect(objects.count == 1, "info is below notice: \(captured.text)")
        let entry = try #require(objects.first)
        #expect(entry["level"] as? String == "error" && entry["logger"] as? String == "flashdeal")
        #expect(entry["message"] as? String == "a \"quoted\"\nmessage")
        #expect(entry["request_id"] as? String == "r-1" && entry["hb.request.id"] == nil)
        #expect(entry["flashdeal.deal.id"] as? String == "d-1")
        #expect((entry["nested"] as? [String: Any])?["a"] as? [String] == ["1", "2"])
        let time = try #require(entry["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z") && ISO8601DateFormatter().date(from: time.replacingOccurrences(of: #"\.\d{3}"#, with: "", options: .regularExpression)) != nil)
    }

    @Test func eachRequestHasAnAccessLineWithItsIdOperationAndOutcome() async throws {
        let captured = Captured()
        let logger = Self.logger(captured)
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop, configuration: .init(accessLog: true), logger: logger)
        let app = Application(router: router.router(), logger: logger)
        let bearer = try await Authenticator.bearer("u-log")
        try await app.test(.router) { client in
            let body = try JSONSerialization.data(withJSONObject: [
                "query": #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "log-1"}) { __typename } }"#,
            ])
            let id = try await client.execute(
                uri: "/graphql", method: .post, headers: [.contentType: "application/json", .authorization: bearer], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
                return response.headers[HTTPField.Name("X-Request-Id")!]
            }
            let requestID = try #require(id, "the response names its request id")
            let line = try #require(captured.objects.first { $0["message"] as? String == "request" && $0["request_id"] as? String == requestID })
            #expect(line["flashdeal.graphql.field"] as? String == "placeOrder")
            #expect(line["flashdeal.order.outcome"] as? String == "OrderPlaced")
            #expect(line["http.response.status_code"] as? String == "200" && line["url.path"] as? String == "/graphql")
            #expect((line["flashdeal.duration_ms"] as? String).flatMap(Double.init).map { $0 >= 0 } == true)
            _ = try await client.execute(uri: "/health/live", method: .get) { _ in }
            #expect(captured.objects.contains { $0["message"] as? String == "request" && $0["url.path"] as? String == "/health/live" })
        }
        let token = try #require(bearer.split(separator: " ").last)
        #expect(!captured.text.contains(token), "the bearer token is never logged")
    }
}
