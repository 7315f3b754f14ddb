import Domain
import Foundation
import LiveAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `flashdeal serve` as a user runs it: the real binary on the real backends (and embedded), ready,
/// answering GraphQL, then SIGTERM: it stops accepting, drains, flushes the producer, stops the
/// consumer and exits 0 within the graceful-shutdown bound.
@Suite(.enabled(if: Backends.allThere))
struct ServeLifecycleTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("flashdeal")
    }

    /// The secret the server under test verifies tokens with (a shop on the backends refuses the development one).
    static let secret = "serve-lifecycle-test-secret-0123456789"

    static func bearer(_ user: String, admin: Bool = false) async throws -> String {
        "Bearer " + (try await Authenticator.token(user: try UserID(validating: user), admin: admin, secret: secret))
    }

    static func request(_ url: String, body: Data?, authorization: String?, timeout: TimeInterval) -> URLRequest {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = timeout
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
        }
        return request
    }

    static func get(_ url: String, body: Data? = nil, authorization: String? = nil) -> (Int, String)? {
        let request = request(url, body: body, authorization: authorization, timeout: 2)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let http = response as? HTTPURLResponse { result = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self)) }
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    /// `flashdeal serve` with `arguments` and `extra` environment, ready; with the backends or embedded.
    static func serve(_ arguments: [String], withBackends: Bool, environment extra: [String: String] = [:]) async throws -> (Process, port: Int) {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build flashdeal first")
        let port = Int.random(in: 20_000...29_999)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "\(port)", "--auth-secret", secret] + arguments
        var environment = ProcessInfo.processInfo.environment
        if !withBackends { for key in ["FLASHDEAL_REDIS_URL", "FLASHDEAL_KAFKA_BROKERS", "FLASHDEAL_MONGO_URI"] { environment.removeValue(forKey: key) } }
        process.environment = environment.merging(extra) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var ready = false
        for _ in 0..<150 where !ready {
            ready = Self.get("http://127.0.0.1:\(port)/health/ready")?.0 == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "ready within 15 s")
        return (process, port)
    }

    /// A payment whose provider takes a minute is still in flight at SIGTERM: the server stops at
    /// its one-second bound instead of waiting for it.
    @Test func shutdownIsBoundedWhenARequestOutlastsIt() async throws {
        let (process, port) = try await Self.serve(["--payment-latency", "60s", "--shutdown-timeout", "1s"], withBackends: false)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let graphql = "http://127.0.0.1:\(port)/graphql"
        let place = try JSONSerialization.data(withJSONObject: [
            "query": #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k"}) { ... on OrderPlaced { order { id } } } }"#,
        ])
        let buyer = try await Self.bearer("u-1")
        let placed = try #require(Self.get(graphql, body: place, authorization: buyer)?.1)
        let orderID = try #require(placed.split(separator: "\"").first { $0.hasPrefix("o-") })
        let pay = try JSONSerialization.data(withJSONObject: [
            "query": "mutation { payOrder(input: {orderId: \"\(orderID)\", idempotencyKey: \"p\"}) { __typename } }",
        ])
        URLSession.shared.dataTask(with: Self.request(graphql, body: pay, authorization: buyer, timeout: 90)) { _, _, _ in }.resume()
        try await Task.sleep(for: .milliseconds(500))
        let stopping = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stopping < .seconds(40) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "stopped at its bound, not after the minute-long payment")
        #expect(ContinuousClock.now - stopping < .seconds(30), "took \(ContinuousClock.now - stopping)")
    }

    @Test(arguments: [true, false])
    func sigtermDrainsAndExits(withBackends: Bool) async throws {
        let (process, port) = try await Self.serve([], withBackends: withBackends)
        defer { if process.isRunning { process.terminate() } }
        let create = try JSONSerialization.data(withJSONObject: ["query": #"mutation { createProduct(input: {id: "lifecycle", name: "L", description: ""}) { __typename } }"#])
        let admin = try await Self.bearer("admin", admin: true)
        #expect(Self.get("http://127.0.0.1:\(port)/graphql", body: create, authorization: admin)?.1.contains("ProductCreated") == true)
        let stopping = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stopping < .seconds(20) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "exited within 20 s of SIGTERM")
        #expect(process.terminationStatus == 0)
        #expect(Self.get("http://127.0.0.1:\(port)/health/live") == nil, "no longer accepting")
    }
}
