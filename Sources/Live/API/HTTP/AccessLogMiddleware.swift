import Domain
import Hummingbird
import HTTPTypes
import Logging

/// One access-log line per request, at `info` on the request's logger (which carries its id,
/// `hb.request.id`, and under tracing its trace and span ids): method, path (never the query),
/// status, the GraphQL operation's label and the outcome it decided, and the duration. The
/// response names the id in `X-Request-Id`, so a client can quote it.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ShopRequestContext
    static let requestID = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            response.headers[Self.requestID] = context.id
            log(request, context, status: Int(response.status.code))
            return response
        } catch {
            log(request, context, status: Int((error as? any HTTPResponseError)?.status.code ?? 500))
            throw error
        }
    }

    func log(_ request: Request, _ context: Context, status: Int) {
        let elapsed = ContinuousClock.now - context.arrivedAt
        var metadata: Logger.Metadata = [
            "http.request.method": .string(request.method.rawValue), "url.path": .string(request.uri.path),
            "http.response.status_code": .stringConvertible(status),
            "flashdeal.duration_ms": .stringConvertible(Double(elapsed.nanoseconds / 1000) / 1000),
        ]
        if let operation = context.notes.operation { metadata["flashdeal.graphql.field"] = .string(operation) }
        if let outcome = context.notes.outcome { metadata["flashdeal.order.outcome"] = .string(outcome) }
        context.logger.info("request", metadata: metadata)
    }
}
