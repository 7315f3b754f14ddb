import GraphQL
import Tracing

extension ShopRouter {
    /// Runs one GraphQL operation in a span of its own, named `<type> <first root field>`
    /// (`mutation placeOrder`; `query invalid` for a document that does not validate), with
    /// OpenTelemetry's GraphQL attributes (`graphql.operation.type`, `graphql.operation.name` when
    /// the request names one) and `flashdeal.graphql.field`; resolvers add what they decided
    /// (``RequestContext/decided(_:_:deal:order:)``). Without tracing `body` runs alone.
    func operationSpan<T>(
        _ payload: GraphQLHTTPRequest, isolation: isolated (any Actor)? = #isolation, _ body: ((any Span)?) async throws -> T
    ) async throws -> T {
        guard configuration.tracing else { return try await body(nil) }
        let operation = self.operation(payload)
        let type = operation.kind.map { "\($0.rawValue)" } ?? "query"
        return try await withSpan("\(type) \(operation.label)", isolation: isolation) { span in
            span.attributes["graphql.operation.type"] = type
            if let name = payload.operationName { span.attributes["graphql.operation.name"] = name }
            span.attributes["flashdeal.graphql.field"] = operation.label
            return try await body(span)
        }
    }
}
