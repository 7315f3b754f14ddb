import Domain
import Foundation
import GraphQL
public import Logging

/// What a client is told of an error. The GraphQL language's own errors (parse, validation,
/// coercion) and the API's typed refusals (`ValidationError`, `OrdersPaused`, a GET asked to
/// mutate) reach the client as they are; anything else (a backend's error, with its host and port,
/// or a bug) reaches it as `internal error (request <id>)`, and the log gets the whole error under
/// `flashdeal.request.id`, so an operator finds it from what the client shows.
enum ClientErrors {
    /// Whether `error`'s text is meant for clients.
    static func isPublic(_ error: any Error) -> Bool {
        switch error {
        case is Domain.ValidationError, is OrdersPaused, is DocumentCache.ReadOnlyTransport: true
        case let error as GraphQLError: error.originalError.map(isPublic) ?? true
        default: false
        }
    }

    /// A short id for one failed request, unique enough to find its log line.
    static func requestID() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }

    /// The message a client gets for `error`; a non-public one is logged with its id first.
    static func message(_ error: any Error, logger: Logger) -> String {
        guard !isPublic(error) else { return (error as? GraphQLError)?.message ?? "\(error)" }
        let id = requestID()
        let underlying = (error as? GraphQLError)?.originalError ?? error
        logger.error("request failed", metadata: ["flashdeal.request.id": "\(id)", "flashdeal.error": "\(underlying)"])
        return "internal error (request \(id))"
    }

    /// `result` with every error that is not for clients replaced (and logged).
    static func publicResult(_ result: GraphQLResult, logger: Logger) -> GraphQLResult {
        guard result.errors.contains(where: { !isPublic($0) }) else { return result }
        var result = result
        result.errors = result.errors.map { error in
            isPublic(error) ? error : GraphQLError(message: message(error, logger: logger), locations: error.locations, path: error.path)
        }
        return result
    }
}
