import LiveRuntime
import Tracing

extension RedisPool {
    /// Runs `body` in a client span named `<command> <target>` (inside traced work only: see
    /// ``withChildSpan(_:ofKind:isolation:_:)``), with OpenTelemetry's database attributes
    /// (`db.system.name` redis, `db.operation.name`, `server.address`, `server.port`).
    func traced<T>(
        _ command: String, _ target: String, isolation: isolated (any Actor)? = #isolation, _ body: ((any Span)?) async throws -> T
    ) async throws -> T {
        try await withChildSpan("\(command) \(target)", ofKind: .client, isolation: isolation) { span in
            if let span {
                span.attributes["db.system.name"] = "redis"
                span.attributes["db.operation.name"] = command
                span.attributes["server.address"] = endpoint.host
                span.attributes["server.port"] = endpoint.port
            }
            return try await body(span)
        }
    }
}
