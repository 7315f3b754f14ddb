import Foundation
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

    static func get(_ url: String, body: Data? = nil) -> (Int, String)? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 2
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("admin", forHTTPHeaderField: "X-User-Id")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let http = response as? HTTPURLResponse { result = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self)) }
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    @Test(arguments: [true, false])
    func sigtermDrainsAndExits(withBackends: Bool) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build flashdeal first")
        let port = Int.random(in: 20_000...29_999)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "\(port)"]
        var environment = ProcessInfo.processInfo.environment
        if !withBackends { for key in ["FLASHDEAL_REDIS_URL", "FLASHDEAL_KAFKA_BROKERS", "FLASHDEAL_MONGO_URI"] { environment.removeValue(forKey: key) } }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var ready = false
        for _ in 0..<150 where !ready {
            ready = Self.get("http://127.0.0.1:\(port)/health/ready")?.0 == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "ready within 15 s")
        let create = try JSONSerialization.data(withJSONObject: ["query": #"mutation { createProduct(input: {id: "lifecycle", name: "L", description: ""}) { __typename } }"#])
        #expect(Self.get("http://127.0.0.1:\(port)/graphql", body: create)?.1.contains("ProductCreated") == true)
        let stopping = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stopping < .seconds(20) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "exited within 20 s of SIGTERM")
        #expect(process.terminationStatus == 0)
        #expect(Self.get("http://127.0.0.1:\(port)/health/live") == nil, "no longer accepting")
    }
}
