import Domain
import Foundation
import GraphQL
import Graphiti
public import Hummingbird
import HTTPTypes
import LiveRuntime
public import HummingbirdWebSocket
import NIOCore
import Synchronization

/// GraphQL over WebSocket on `/graphql` with the `graphql-transport-ws` protocol (what the
/// `graphql-ws` JavaScript client and Python's `gql` speak): `connection_init` → `connection_ack`,
/// then `subscribe` operations by id, answered with `next`… `complete` or `error`; `complete` from
/// the client stops one; `ping`/`pong`. Protocol violations close the socket with the protocol's
/// codes (4400 invalid message, 4401 subscribe before ack, 4408 no init in time, 4409 duplicate id,
/// 4429 second init). The caller is authenticated as on HTTP, from the upgrade request's
/// `Authorization` or, since browsers cannot set headers on a WebSocket, the `connection_init`
/// payload's `Authorization` (`Bearer <JWT>`); bad credentials close the socket with 4403. A
/// browser's socket (it sends `Origin`) is accepted only from the server's own origin or one of
/// `allowedOrigins`.
///
/// A socket is held to what HTTP is: each operation takes a token from the client address's
/// bucket (refused with an `error` message) and a query or mutation runs through the admission
/// gate, mutations take from the buyer's bucket as on HTTP (`RateLimited`). Besides, a signed-in
/// buyer may hold `maxSocketsPerBuyer` sockets on this replica and an anonymous address
/// `maxAnonymousSocketsPerAddress` (more are closed with 4430 once `connection_init` says who it
/// is), and one socket runs at most `maxOperationsPerSocket` operations at once.
extension ShopRouter {
    public static let webSocketProtocol = "graphql-transport-ws"

    /// Whether a socket from `origin` may open. A browser names the page that opens a socket in
    /// `Origin` (`http(s)://host[:port]`, or `null`), and a page of another site must not act with
    /// the buyer's credentials: a browser's origin must be the server's own (`Host`) or a
    /// configured one. Other clients send none, or what they like (`ws://host`): they are not
    /// checked, since they could send anything.
    func allows(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        if configuration.allowedOrigins.contains(origin) { return true }
        if origin == "null" { return false }
        guard let url = URLComponents(string: origin), let scheme = url.scheme?.lowercased(), let originHost = url.host else { return false }
        guard scheme == "http" || scheme == "https" else { return true }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        guard let host else { return false }
        let hostWithPort = host.contains(":") ? host : "\(host):\(scheme == "https" ? 443 : 80)"
        return "\(originHost):\(port)".lowercased() == hostWithPort.lowercased()
    }

    public func webSocketRouter() -> Router<ShopWebSocketContext> {
        let router = Router(context: ShopWebSocketContext.self)
        router.ws("/graphql") { request, _ in
            let offered = (request.headers[.secWebSocketProtocol] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard offered.contains(Self.webSocketProtocol), allows(origin: request.headers[.origin], host: request.head.authority) else { return .dontUpgrade }
            return .upgrade([.secWebSocketProtocol: Self.webSocketProtocol])
        } onUpgrade: { inbound, outbound, context in
            let (authorization, trusted) = credentials(context.request.headers)
            let session = GraphQLWebSocketSession(
                router: self, outbound: outbound, authorization: authorization, trusted: trusted,
                address: address(context.request.headers, peer: context.requestContext.remoteAddress))
            await session.run(inbound.messages(maxSize: configuration.maxBodyBytes))
        }
        return router
    }
}

/// The WebSocket router's context: the connection's peer, for the client's address.
public struct ShopWebSocketContext: Hummingbird.RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }
}

/// This replica's open sockets by who holds them (`buyer:<user>` or `address:<ip>`).
final class SocketCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more socket for `key` unless it holds `cap` already.
    func open(_ key: String, cap: Int) -> Bool {
        counts.withLock { counts in
            guard counts[key, default: 0] < cap else { return false }
            counts[key, default: 0] += 1
            return true
        }
    }

    func close(_ key: String) {
        counts.withLock { counts in
            let left = counts[key, default: 0] - 1
            counts[key] = left > 0 ? left : nil
        }
    }

    func count(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }
}

actor GraphQLWebSocketSession {
    let router: ShopRouter
    let outbound: WebSocketOutboundWriter
    /// The upgrade request's credentials, until `connection_init` replaces or confirms them.
    var authorization: String?
    let trusted: String?
    /// The client's address (the proxy's header or the peer), for its bucket.
    let address: String?
    var caller: Caller?
    /// Whom this socket is counted against in ``ShopRouter/sockets`` once acknowledged.
    var counted: String?
    var acknowledged = false
    var closed = false
    var operations: [String: Task<Void, Never>] = [:]
    static let initTimeout: Duration = .seconds(10)
    /// The close code for a buyer (or anonymous address) over its socket cap.
    static let tooManySockets: UInt16 = 4430

    init(router: ShopRouter, outbound: WebSocketOutboundWriter, authorization: String?, trusted: String?, address: String?) {
        self.router = router
        self.outbound = outbound
        self.authorization = authorization
        self.trusted = trusted
        self.address = address
    }

    func run(_ messages: WebSocketInboundMessageStream) async {
        let timeout = Task {
            try? await Task.sleep(for: Self.initTimeout)
            if !Task.isCancelled { await self.closeIfNotAcknowledged() }
        }
        do {
            for try await message in messages {
                guard case .text(let text) = message else { return await close(4400, "binary messages are not part of graphql-transport-ws") }
                await handle(text)
                if closed { break }
            }
        } catch {
            await close(4400, "unreadable message: \(error)")
        }
        timeout.cancel()
        for task in operations.values { task.cancel() }
        if let counted { router.sockets.close(counted) }
    }

    func closeIfNotAcknowledged() async {
        if !acknowledged { await close(4408, "Connection initialisation timeout") }
    }

    func handle(_ text: String) async {
        guard let message = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let type = message["type"] as? String else {
            return await close(4400, "a message is a JSON object with a type")
        }
        switch type {
        case "connection_init":
            guard !acknowledged else { return await close(4429, "Too many initialisation requests") }
            if let payload = message["payload"] as? [String: Any], let value = (payload["Authorization"] ?? payload["authorization"]) as? String {
                authorization = value
            }
            do {
                caller = try await router.authenticator.caller(authorization: authorization, trusted: trusted)
            } catch {
                return await close(4403, "Forbidden: \(error)")
            }
            let limits = router.configuration
            let (key, cap) = caller.map { ("buyer:\($0.user)", limits.maxSocketsPerBuyer) }
                ?? (address.map { "address:\($0)" }, limits.maxAnonymousSocketsPerAddress)
            if let key {
                guard router.sockets.open(key, cap: cap) else {
                    router.metrics.outcome("webSocket", "TooManySockets")
                    return await close(Self.tooManySockets, "Too many sockets: at most \(cap) for \(caller == nil ? "an anonymous address" : "one buyer")")
                }
                counted = key
            }
            acknowledged = true
            await send(["type": "connection_ack"])
        case "ping":
            await send(["type": "pong"])
        case "pong":
            break
        case "subscribe":
            guard acknowledged else { return await close(4401, "Unauthorized") }
            guard let id = message["id"] as? String, !id.isEmpty, let payload = message["payload"] as? [String: Any],
                let query = payload["query"] as? String
            else { return await close(4400, "subscribe needs an id and a payload with a query") }
            guard operations[id] == nil else { return await close(4409, "Subscriber for \(id) already exists") }
            guard operations.count < router.configuration.maxOperationsPerSocket else {
                return await sendError(id, ["at most \(router.configuration.maxOperationsPerSocket) operations run at once on one socket"])
            }
            let variables = (try? JSONSerialization.data(withJSONObject: payload["variables"] ?? [String: Any]()))
                .flatMap { try? JSONDecoder().decode([String: Map].self, from: $0) } ?? [:]
            let request = GraphQLHTTPRequest(query: query, variables: variables, operationName: payload["operationName"] as? String)
            operations[id] = Task(executorPreference: ServerTasks.executor) { await self.operate(id, request) }
        case "complete":
            if let id = message["id"] as? String { operations.removeValue(forKey: id)?.cancel() }
        default:
            await close(4400, "unknown message type \(type)")
        }
    }

    /// Runs one operation: a subscription streams `next` messages; a query or mutation sends one.
    func operate(_ id: String, _ request: GraphQLHTTPRequest) async {
        defer { operations.removeValue(forKey: id) }
        // The address's bucket, as for an HTTP request.
        if let wait = await router.limit(address: address, buyer: nil).addressWait {
            router.metrics.outcome("webSocket", "RateLimited")
            let seconds = ShopRouter.retryAfterSeconds(wait)
            return await send(["id": id, "type": "error", "payload": [["message": "too many requests from this address; retry after \(seconds) s", "extensions": ["retryAfterSeconds": seconds]]]])
        }
        let context: RequestContext, prepared: DocumentCache.Prepared
        do {
            prepared = try router.prepare(request, transport: .webSocket)
            context = await router.context(caller: caller)
        } catch {
            return await sendError(id, [ClientErrors.message(error, logger: router.logger)])
        }
        do {
            guard case .valid(_, .subscription?, _) = prepared else {
                // A query or mutation takes a place in the admission gate, as on HTTP.
                if let gate = router.gate {
                    let admission = await gate.acquire()
                    guard admission == .admitted else {
                        router.metrics.outcome("webSocket", "Shed")
                        return await sendError(id, ["the server is busy; retry in a moment"])
                    }
                }
                defer { router.gate?.release() }
                let result = try await router.operationSpan(request) { span in
                    var context = context
                    context.span = span
                    return try await DocumentCache.execute(
                        prepared, api: router.api, context: context, variables: request.variables ?? [:], operationName: request.operationName)
                }
                await send(id: id, ClientErrors.publicResult(result, logger: router.logger))
                return await send(["id": id, "type": "complete"])
            }
            switch try await router.api.subscribe(
                request: request.query, context: context, variables: request.variables ?? [:], operationName: request.operationName)
            {
            case .failure(let errors):
                await sendError(id, errors.errors.map { ClientErrors.message($0, logger: router.logger) })
            case .success(let stream):
                for try await result in stream {
                    if Task.isCancelled { return }
                    await send(id: id, ClientErrors.publicResult(result, logger: router.logger))
                }
                if !Task.isCancelled { await send(["id": id, "type": "complete"]) }
            }
        } catch {
            if !Task.isCancelled { await sendError(id, [ClientErrors.message(error, logger: router.logger)]) }
        }
    }

    /// `{"id", "type": "next", "payload": <the GraphQL result>}`.
    struct Next: Encodable {
        let id: String
        let type = "next"
        let payload: GraphQLResult
    }

    func send(id: String, _ result: GraphQLResult) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(Next(id: id, payload: result)) else { return }
        await write(String(decoding: data, as: UTF8.self))
    }

    /// `{"id", "type": "error", "payload": [{"message"}, …]}`: the operation ends with these errors.
    func sendError(_ id: String, _ messages: [String]) async {
        await send(["id": id, "type": "error", "payload": messages.map { ["message": $0] }])
    }

    func send(_ object: [String: Any]) async {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        await write(String(decoding: data, as: UTF8.self))
    }

    func write(_ text: String) async {
        guard !closed else { return }
        do { try await outbound.write(.text(text)) } catch { closed = true }
    }

    func close(_ code: UInt16, _ reason: String) async {
        guard !closed else { return }
        closed = true
        try? await outbound.close(.unknown(code), reason: reason)
    }
}
