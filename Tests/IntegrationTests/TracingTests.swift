import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Tracing as an operator turns it on: `flashdeal serve` on the real backends with the standard
/// OpenTelemetry environment, exporting OTLP/HTTP to a receiver decoded by `opentelemetry-proto`
/// (`scripts/otlp-receiver.py`). A client's order, sent with a W3C `traceparent`, is one trace
/// from the HTTP request through the stock gate, the relay's send and the writer's process span
/// to MongoDB; its payment has the provider's span. A trace the client's sampler dropped exports
/// nothing.
@Suite(.enabled(if: Backends.allThere && Backends.python != nil))
struct TracingTests {
    struct Span: Decodable {
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        var kind: String
        var service: String?
        var attributes: [String: Attribute]

        func text(_ key: String) -> String? { if case .text(let value) = attributes[key] { value } else { nil } }
    }

    enum Attribute: Decodable, Equatable {
        case text(String), number(Double), flag(Bool), other
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Bool.self) { self = .flag(v) } else if let v = try? c.decode(Double.self) { self = .number(v) }
            else if let v = try? c.decode(String.self) { self = .text(v) } else { self = .other }
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The receiver on a free port, and the file it appends spans to.
    static func receiver() async throws -> (Process, port: Int, spans: URL) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UInt32.random(in: 0...UInt32.max)).jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Backends.python))
        process.arguments = [Self.repository.appendingPathComponent("scripts/otlp-receiver.py").path, "--out", out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(line.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "receiver said \(line)")
        return (process, port, out)
    }

    static func spans(_ file: URL) -> [Span] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Span.self, from: Data($0.utf8)) }
    }

    static func post(_ port: Int, _ query: String, authorization: String, traceParent: String? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/graphql")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query])
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        if let traceParent { request.setValue(traceParent, forHTTPHeaderField: "traceparent") }
        let (data, _) = try await URLSession.shared.data(for: request)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["data"] as? [String: Any], "answered \(json)")
    }

    @Test func oneOrderIsOneTraceFromTheRequestToMongoDB() async throws {
        let (receiver, otlpPort, file) = try await Self.receiver()
        defer { kill(receiver.processIdentifier, SIGKILL) }
        let tag = "trace\(UInt32.random(in: 0...UInt32.max))"
        let (server, port) = try await ServeLifecycleTests.serve(
            ["--redis-key-prefix", tag, "--kafka-topic-prefix", tag, "--mongo-uri", try Backends.mongoTestURI(), "--payment-latency", "5ms"],
            withBackends: true,
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(otlpPort)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_TRACES_SAMPLER": "parentbased_always_on", "OTEL_SERVICE_NAME": "flashdeal-tracing-test", "OTEL_BSP_SCHEDULE_DELAY": "200",
            ])
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let admin = try await ServeLifecycleTests.bearer("admin", admin: true), buyer = try await ServeLifecycleTests.bearer("u-trace")
        _ = try await Self.post(port, #"mutation { createProduct(input: {id: "p-trace", name: "T", description: ""}) { __typename } }"#, authorization: admin)
        _ = try await Self.post(port, #"mutation { scheduleDeal(input: {id: "d-trace", productId: "p-trace", price: 1000, startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z", perUserLimit: 2, stock: 5, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { __typename } }"#, authorization: admin)
        _ = try await Self.post(port, #"mutation { startDeal(id: "d-trace") { __typename } }"#, authorization: admin)

        // A client's trace its sampler dropped (flags 00): served as any, and nothing of it is
        // exported (no span of the trace, none naming the order, neither on the request path nor
        // in the writer). Placed first, so the writer has processed it once it has the order below.
        let droppedTrace = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let dropped = try await Self.post(
            port, #"mutation { placeOrder(input: {dealId: "d-trace", quantity: 1, idempotencyKey: "t0"}) { __typename ... on OrderPlaced { order { id } } } }"#,
            authorization: buyer, traceParent: "00-\(droppedTrace)-00f067aa0ba902b8-00")
        let droppedOrder = try #require(((dropped["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String, "placed: \(dropped)")
        let droppedPaid = try await Self.post(
            port, "mutation { payOrder(input: {orderId: \"\(droppedOrder)\", idempotencyKey: \"t0p\"}) { __typename } }", authorization: buyer,
            traceParent: "00-\(droppedTrace)-00f067aa0ba902b8-00")
        #expect((droppedPaid["payOrder"] as? [String: Any])?["__typename"] as? String == "OrderPaid")

        // The client's own trace: the server continues it.
        let traceID = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let clientSpan = "00f067aa0ba902b7"
        let placed = try await Self.post(
            port, #"mutation { placeOrder(input: {dealId: "d-trace", quantity: 1, idempotencyKey: "t1"}) { __typename ... on OrderPlaced { order { id } } } }"#,
            authorization: buyer, traceParent: "00-\(traceID)-\(clientSpan)-01")
        let order = try #require(((placed["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String, "placed: \(placed)")
        let paid = try await Self.post(port, "mutation { payOrder(input: {orderId: \"\(order)\", idempotencyKey: \"t1p\"}) { __typename } }", authorization: buyer)
        #expect((paid["payOrder"] as? [String: Any])?["__typename"] as? String == "OrderPaid")

        // The writer's span for the order, once the relay and the consumer group got to it.
        var spans: [Span] = []
        var written: Span?
        let deadline = ContinuousClock.now + .seconds(90)
        while written == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            spans = Self.spans(file)
            written = spans.first {
                $0.kind == "consumer" && $0.name == "process \(tag).orders" && $0.text("flashdeal.order.id") == order && $0.text("flashdeal.event.type") == "OrderPlaced"
            }
        }
        kill(server.processIdentifier, SIGTERM)
        let stopping = ContinuousClock.now
        while server.isRunning, ContinuousClock.now - stopping < .seconds(20) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(server.terminationStatus == 0)
        spans = Self.spans(file)
        let writer = try #require(written, "no writer span for \(order) among \(spans.map(\.name))")
        #expect(!spans.contains { $0.traceId == droppedTrace || $0.text("flashdeal.order.id") == droppedOrder },
                "spans of a dropped trace: \(spans.filter { $0.traceId == droppedTrace || $0.text("flashdeal.order.id") == droppedOrder }.map(\.name))")

        let pay = try #require(spans.first { $0.name == "mutation payOrder" && $0.text("flashdeal.order.id") == order })
        // Its ancestors, up to the client's span: send → stock gate → the operation → the HTTP request.
        let byID = Dictionary(spans.map { ($0.spanId, $0) }, uniquingKeysWith: { a, _ in a })
        var chain: [Span] = [writer]
        while let parent = byID[chain.last!.parentSpanId] { chain.append(parent) }
        #expect(chain.map(\.name) == ["process \(tag).orders", "send", "EVALSHA stock-gate", "mutation placeOrder", "/graphql"], "chain \(chain.map(\.name))")
        #expect(chain.allSatisfy { $0.traceId == traceID }, "the client's trace id throughout")
        #expect(chain.last?.parentSpanId == clientSpan, "the request's span is a child of the client's")
        #expect(chain.allSatisfy { $0.service == "flashdeal-tracing-test" })

        // Each span as docs/observability.md lists it.
        let operation = try #require(chain.first { $0.name == "mutation placeOrder" })
        #expect(operation.text("graphql.operation.type") == "mutation")
        #expect(operation.text("flashdeal.order.outcome") == "OrderPlaced")
        #expect(operation.text("flashdeal.deal.id") == "d-trace" && operation.text("flashdeal.order.id") == order)
        let gate = try #require(chain.first { $0.name == "EVALSHA stock-gate" })
        #expect(gate.kind == "client" && gate.text("db.system.name") == "redis" && gate.text("flashdeal.gate.operation") == "reserve")
        #expect(gate.text("flashdeal.gate.outcome") == "reserve" && gate.text("flashdeal.deal.id") == "d-trace")
        let send = try #require(chain.first { $0.name == "send" })
        #expect(send.kind == "producer" && send.text("messaging.system") == "kafka" && send.text("flashdeal.deal.id") == "d-trace")
        #expect(writer.text("messaging.destination.name") == "\(tag).orders")
        // The payment's own OrderPaid reached the writer in the payment's trace.
        #expect(spans.contains { $0.name == "process \(tag).orders" && $0.text("flashdeal.event.type") == "OrderPaid" && $0.traceId == pay.traceId })
        let http = try #require(chain.last)
        #expect(http.kind == "server" && http.attributes["http.response.status_code"] == .number(200))
        // The writer's MongoDB writes are children of a process span.
        let processSpans = Set(spans.filter { $0.kind == "consumer" }.map(\.spanId))
        #expect(spans.contains { $0.text("db.system.name") == "mongodb" && $0.kind == "client" && processSpans.contains($0.parentSpanId) })

        // The payment: its operation span, the provider's charge and the stock gate's pay under it.
        #expect(pay.text("flashdeal.order.outcome") == "OrderPaid")
        let charge = try #require(spans.first { $0.name == "charge payment-provider" && $0.traceId == pay.traceId })
        #expect(charge.kind == "client" && charge.text("flashdeal.payment.outcome") == "approved")
        #expect(spans.contains { $0.name == "EVALSHA stock-gate" && $0.traceId == pay.traceId && $0.text("flashdeal.gate.operation") == "pay" })
    }
}
