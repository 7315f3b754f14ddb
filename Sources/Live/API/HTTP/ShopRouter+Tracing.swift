import GraphQL
import HTTPTypes
import Hummingbird
import LiveRuntime
import Tracing

extension ShopRouter {
    /// Runs one GraphQL operation in a span of its own, named `<type> <first root field>`
    /// (`mutation placeOrder`; `query invalid` for a document that does not validate), with
    /// OpenTelemetry's GraphQL attributes (`graphql.operation.type`, `graphql.operation.name` when
    /// the request names one) and `flashdeal.graphql.field`; resolvers add what they decided
    /// (``RequestContext/decided(_:_:deal:order:)``). Without tracing, or inside a trace the sampler
    /// dropped (the request's server span records nothing: ``ServerSpanMiddleware``), `body` runs
    /// alone: every standard sampler drops a dropped trace's children too, so the span would only
    /// cost its id and context. When the sampler drops the trace here, `body` runs with
    /// ``TraceContext/sampled`` false.
    func operationSpan<T>(
        _ payload: GraphQLHTTPRequest, isolation: isolated (any Actor)? = #isolation, _ body: ((any Span)?) async throws -> T
    ) async throws -> T {
        guard configuration.tracing, TraceContext.sampled else { return try await body(nil) }
        let operation = self.operation(payload)
        let type = operation.kind.map { "\($0.rawValue)" } ?? "query"
        return try await withSpan("\(type) \(operation.label)", isolation: isolation) { span in
            span.attributes["graphql.operation.type"] = type
            if let name = payload.operationName { span.attributes["graphql.operation.name"] = name }
            span.attributes["flashdeal.graphql.field"] = operation.label
            guard span.isRecording else { return try await TraceContext.$sampled.withValue(false) { try await body(span) } }
            return try await body(span)
        }
    }
}

/// The server span of each HTTP request, named by its route (`/graphql`), continuing the caller's
/// W3C `traceparent`, with OpenTelemetry's HTTP attributes (set only when the span records). Unlike
/// Hummingbird's `TracingMiddleware` it ends when the handler returns, not after the body is
/// written (the shop's bodies are one buffer written right after), and wraps no response body in a
/// post-write closure: with it instead of Hummingbird's, bench-live's observability pairs (tracing
/// at 1% and metrics, against neither, at 2k requests/s) went from +29% to +17% CPU per request
/// (two pairs each, 2026-12-02, a noisy machine). When the sampler drops the request's trace the
/// handler runs with ``TraceContext/sampled`` false, so nothing under it (the rate limiter's round
/// trip, the order's read-ahead, the operation) starts a span of its own.
struct ServerSpanMiddleware: RouterMiddleware {
    typealias Context = ShopRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var parent = InstrumentationContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HeaderExtractor())
        let route = RequestMetricsMiddleware.route(of: request)
        return try await withSpan(route, context: parent, ofKind: .server) { span in
            guard span.isRecording else { return try await TraceContext.$sampled.withValue(false) { try await next(request, context) } }
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["url.path"] = request.uri.path
            span.attributes["http.route"] = route
            if let agent = request.headers[.userAgent] { span.attributes["user_agent.original"] = agent }
            let response = try await next(request, context)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(.init(code: .error)) }
            return response
        }
    }
}

struct HeaderExtractor: Extractor {
    /// The W3C propagator's two header names, parsed once (it asks for them on every request).
    static let traceParent = HTTPField.Name("traceparent")!, traceState = HTTPField.Name("tracestate")!

    func extract(key: String, from carrier: HTTPFields) -> String? {
        switch key {
        case "traceparent": carrier[Self.traceParent]
        case "tracestate": carrier[Self.traceState]
        default: HTTPField.Name(key).flatMap { carrier[$0] }
        }
    }
}
