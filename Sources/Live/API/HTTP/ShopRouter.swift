public import Domain
public import Logging
public import Foundation
import GraphQL
import Graphiti
public import Hummingbird
import HTTPTypes
import NIOCore
import Synchronization
import Tracing
public import LiveRuntime

/// The HTTP surface: `POST /graphql` (JSON) and `GET /graphql?query=`, `GET /health/live` and
/// `GET /health/ready`. Malformed requests get a 4xx naming the problem; business outcomes are
/// GraphQL union members inside a 200.
public struct ShopRouter: Sendable {
    public struct Configuration: Sendable {
        /// Largest request body accepted (bytes); larger is 413.
        public var maxBodyBytes: Int
        /// Deepest selection nesting a query may have; deeper is refused before execution.
        public var maxQueryDepth: Int
        /// Most aliased fields a document may have.
        public var maxAliases: Int
        /// Highest estimated cost a document's operation may have (``DocumentCache/Shape/cost``).
        public var maxCost: Int
        /// Whether `__schema` and `__type` are answered.
        public var introspection: Bool
        /// The `Origin`s a browser's WebSocket may come from besides the server's own (its `Host`).
        public var allowedOrigins: Set<String>
        /// Load shedding on `/graphql` (nil, the default here: none; `flashdeal serve` sheds with
        /// `ShopServer.Configuration`'s limits).
        public var admission: AdmissionGate.Limits?
        /// How long a public query's answer is served from this replica's memory (`.zero`: never).
        public var responseCacheTTL: Duration
        /// Each buyer's bucket for the business mutations (placeOrder, payOrder, cancelOrder), and
        /// each client address's for every request; rate 0: no limit.
        public var buyerLimit: TokenBucket.Policy
        public var addressLimit: TokenBucket.Policy
        /// The header a proxy in front names the client's address in (its last entry: the one the
        /// nearest proxy added); nil: the connection's peer.
        public var clientAddressHeader: String?
        /// WebSockets one signed-in buyer may hold open on this replica, and anonymous ones one
        /// client address may; more are closed with 4430.
        public var maxSocketsPerBuyer: Int
        public var maxAnonymousSocketsPerAddress: Int
        /// Operations (subscriptions, queries, mutations) one socket may run at once; more are
        /// answered with an `error` message.
        public var maxOperationsPerSocket: Int
        /// Whether requests are traced (a span per request and per GraphQL operation, the W3C
        /// context taken from `traceparent`): on when an OpenTelemetry tracer is bootstrapped.
        public var tracing: Bool
        /// Whether every request gets an access-log line (at `info`, on the request's logger).
        public var accessLog: Bool
        /// Whether `POST /auth/demo` signs a development token for whoever asks (the embedded mode
        /// with no key of its own only: the development secret is public, so anyone could sign one).
        public var demoSignIn: Bool

        public init(
            maxBodyBytes: Int = 64 * 1024, maxQueryDepth: Int = 12, maxAliases: Int = 15, maxCost: Int = 2000, introspection: Bool = true,
            allowedOrigins: Set<String> = [], admission: AdmissionGate.Limits? = nil, responseCacheTTL: Duration = .zero,
            buyerLimit: TokenBucket.Policy = .init(rate: 0, burst: 0), addressLimit: TokenBucket.Policy = .init(rate: 0, burst: 0),
            clientAddressHeader: String? = nil, maxSocketsPerBuyer: Int = 8, maxAnonymousSocketsPerAddress: Int = 64, maxOperationsPerSocket: Int = 16,
            tracing: Bool = false, accessLog: Bool = false, demoSignIn: Bool = false
        ) {
            self.demoSignIn = demoSignIn
            self.tracing = tracing
            self.accessLog = accessLog
            self.maxSocketsPerBuyer = maxSocketsPerBuyer
            self.maxAnonymousSocketsPerAddress = maxAnonymousSocketsPerAddress
            self.maxOperationsPerSocket = maxOperationsPerSocket
            self.buyerLimit = buyerLimit
            self.addressLimit = addressLimit
            self.clientAddressHeader = clientAddressHeader
            self.maxBodyBytes = maxBodyBytes
            self.maxQueryDepth = maxQueryDepth
            self.maxAliases = maxAliases
            self.maxCost = maxCost
            self.introspection = introspection
            self.allowedOrigins = allowedOrigins
            self.admission = admission
            self.responseCacheTTL = responseCacheTTL
        }
    }

    let shop: Shop
    let api: ShopAPI
    let documents = DocumentCache()
    let configuration: Configuration
    /// Each backend's health, by name (readiness).
    let readiness: @Sendable () async -> [String: Bool]
    public let metrics: ShopMetrics
    /// Where errors not meant for clients are logged, with the id the client was given.
    let logger: Logger
    /// Who a request is.
    let authenticator: Authenticator
    /// The buyers' and addresses' token buckets (nil: no limits).
    let rateLimiter: (any RateLimiter)?
    /// This replica's subscribers; subscriptions need it.
    let hub: EventHub?
    /// Why new orders are refused now (the outbox's bound on the backends; nil: no bound).
    let orderRefusal: (@Sendable () -> String?)?
    /// Load shedding on `/graphql`, shared by every router this value builds.
    public let gate: AdmissionGate?
    /// Public queries' answers by request body (microcaching; nil: off): under a flash sale every
    /// shopper polls the same deal, and one execution per `responseCacheTTL` answers them all.
    /// When an answer expires one request refreshes it while the others get the expired one
    /// (stale-while-revalidate, for at most `max(ttl, 1 s)` past expiry), so a hot deal's page is
    /// never computed by a crowd at once. The stock counters shown may be that much behind; the
    /// stock gate, not the page, decides every order, and subscriptions push changes as they happen.
    let responses: LocalCache<Data, Data>?
    /// This replica's open WebSockets, by buyer or anonymous address.
    let sockets = SocketCounts()
    /// The waiting rooms: queues every replica shares and the tickets they sign (nil: a deal with
    /// a waiting room takes no orders through this router).
    let waitingRoom: WaitingRoomAccess?
    /// What the simulator predicted for a deal, as JSON (nil: none stored), for the operator
    /// console (`GET /admin/predictions?deal=`); nil: no results store.
    let predictions: (@Sendable (DealID) async throws -> Data?)?
    /// `configuration.clientAddressHeader` and the authenticator's trusted header, as header
    /// names (nil: none), parsed once rather than for every request.
    let clientAddressField: HTTPField.Name?
    let trustedField: HTTPField.Name?

    /// A buyer's token taken ahead of the business call that spends it: nil wait when the bucket
    /// gave it, else how long until it has one.
    struct BuyerToken: Sendable {
        var wait: Duration?
    }

    public init(
        shop: Shop, configuration: Configuration = .init(), metrics: ShopMetrics = ShopMetrics(), hub: EventHub? = nil,
        orderRefusal: (@Sendable () -> String?)? = nil, authenticator: Authenticator = .development, rateLimiter: (any RateLimiter)? = nil,
        logger: Logger = Logger(label: "flashdeal.api"), waitingRoom: WaitingRoomAccess? = nil,
        predictions: (@Sendable (DealID) async throws -> Data?)? = nil,
        readiness: @escaping @Sendable () async -> [String: Bool] = { [:] }
    ) throws {
        self.shop = shop
        self.predictions = predictions
        self.waitingRoom = waitingRoom
        self.logger = logger
        self.authenticator = authenticator
        self.rateLimiter = rateLimiter
        self.hub = hub
        self.orderRefusal = orderRefusal
        api = try ShopAPI()
        self.configuration = configuration
        clientAddressField = configuration.clientAddressHeader.flatMap { HTTPField.Name($0) }
        trustedField = authenticator.trustedHeaderName.flatMap { HTTPField.Name($0) }
        self.metrics = metrics
        self.readiness = readiness
        gate = configuration.admission.map { AdmissionGate($0) }
        responses = configuration.responseCacheTTL > .zero
            ? LocalCache(ttl: configuration.responseCacheTTL, staleLimit: max(configuration.responseCacheTTL, .seconds(1)), capacity: 1024) : nil
    }

    public func router() -> Router<ShopRequestContext> {
        let router = Router(context: ShopRequestContext.self)
        if configuration.tracing { router.add(middleware: ServerSpanMiddleware()) }
        if configuration.accessLog { router.add(middleware: AccessLogMiddleware()) }
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        if let gate { router.add(middleware: AdmissionMiddleware(gate: gate, metrics: metrics, path: "/graphql")) }
        router.get("/metrics") { [gate] _, _ in
            if let load = gate?.load { metrics.admission(running: load.running, waiting: load.waiting) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("/health/live") { _, _ in Self.json(["status": "live"]) }
        if configuration.demoSignIn { router.post("/auth/demo") { request, _ in try await Self.demoSignIn(request) } }
        router.get("/admin/predictions") { request, _ in try await self.prediction(request) }
        router.get("/health/ready") { _, _ in
            let checks = await readiness()
            let ready = checks.values.allSatisfy { $0 }
            return Self.json(["status": ready ? "ready" : "not ready", "backends": checks], status: ready ? .ok : .serviceUnavailable)
        }
        router.post("/graphql") { request, context in
            let address = self.address(request, context)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: configuration.maxBodyBytes)
            } catch {
                return Self.problem(.contentTooLarge, "the request body is larger than \(configuration.maxBodyBytes) bytes")
            }
            guard request.headers[.contentType]?.hasPrefix("application/json") ?? false else {
                return Self.problem(.unsupportedMediaType, "POST /graphql takes application/json")
            }
            let bytes = Data(buffer: body)
            let caller: Caller?
            do throws(AuthenticationError) { caller = try await self.caller(request.headers) } catch { return Self.unauthorized(error) }
            let cacheable = responses != nil && caller?.isAdmin != true
            if cacheable, let cached = responses?.lookup(bytes).value {
                metrics.caches.looked("responses", hits: 1, misses: 0)
                return await self.refusal(address: address) ?? Self.json(body: cached, status: .ok)
            }
            let payload: GraphQLHTTPRequest
            do {
                payload = try GraphQLHTTPRequest.parse(bytes)
            } catch {
                return Self.problem(.badRequest, "the body is not a GraphQL request ({\"query\", \"variables\", \"operationName\"}): \(error)")
            }
            let operation = self.operation(payload)
            guard operation.kind == .query else {
                // A mutation waits for its buckets: the address's and, when it makes a business
                // call, the caller's first token, in one round trip; the order it pays or
                // cancels is read meanwhile (ReadAheadOrders).
                let readAhead = caller == nil ? nil : operation.order.flatMap(self.readAhead)
                let (refusal, buyerToken) = await self.admit(address: address, buyer: operation.buyerCalls ? caller : nil)
                if let refusal { return refusal }
                context.notes.operation = operation.label
                let (status, answer, _) = await OrderReadAhead.$current.withValue(readAhead) {
                    await self.answer(payload, caller: caller, buyerToken: buyerToken, notes: context.notes)
                }
                metrics.operation(operation.label, duration: .now - context.arrivedAt)
                return Self.json(body: answer, status: status)
            }
            // A query changes nothing: the address's bucket is asked while it runs, and its answer
            // dropped when the address was over, so it costs no round trip more than without limits.
            // (Only queries are cached: a mutation's lookup above is no miss.)
            if cacheable { metrics.caches.looked("responses", hits: 0, misses: 1) }
            context.notes.operation = operation.label
            async let refused = self.refusal(address: address)
            let (status, answer, isPublic) = await self.answer(payload, caller: caller, notes: context.notes)
            if let refusal = await refused { return refusal }
            metrics.operation(operation.label, duration: .now - context.arrivedAt)
            if cacheable, isPublic, status == .ok { responses?.store(answer, for: bytes) }
            return Self.json(body: answer, status: status)
        }
        router.get("/graphql") { request, context in
            if let refusal = await self.refusal(address: self.address(request, context)) { return refusal }
            // Decoded as browsers and GraphQL clients encode a query string (`+` for a space).
            let parameters = Self.formDecoded(request.uri.query ?? "")
            guard let query = parameters["query"] else {
                return Self.problem(.badRequest, "GET /graphql needs a query parameter")
            }
            var variables: [String: Map] = [:]
            if let text = parameters["variables"] {
                guard let decoded = try? JSONDecoder().decode([String: Map].self, from: Data(text.utf8)) else {
                    return Self.problem(.badRequest, "variables is not a JSON object")
                }
                variables = decoded
            }
            let payload = GraphQLHTTPRequest(query: query, variables: variables, operationName: parameters["operationName"])
            let caller: Caller?
            do throws(AuthenticationError) { caller = try await self.caller(request.headers) } catch { return Self.unauthorized(error) }
            let label = self.operation(payload).label
            context.notes.operation = label
            let (status, body, _) = await answer(payload, caller: caller, transport: .get, notes: context.notes)
            metrics.operation(label, duration: .now - context.arrivedAt)
            return Self.json(body: body, status: status)
        }
        return router
    }

    /// The caller a request's headers prove (the bearer token, or the trusted gateway's header in
    /// that mode); nil: anonymous.
    func caller(_ headers: HTTPFields) async throws(AuthenticationError) -> Caller? {
        let (authorization, trusted) = credentials(headers)
        return try await authenticator.caller(authorization: authorization, trusted: trusted)
    }

    /// What a request's headers offer as credentials: `Authorization`, and the trusted gateway's
    /// header in that mode.
    func credentials(_ headers: HTTPFields) -> (authorization: String?, trusted: String?) {
        (headers[.authorization], trustedField.flatMap { headers[$0] })
    }

    /// The kind of operation a request runs, whether it calls a business mutation (one a buyer's
    /// bucket limits), and the label its duration has on `/metrics`: its first root field when the
    /// document is valid (the schema's names: clients cannot grow the metrics), else `invalid`; and
    /// the order a valid document's one money mutation names (what ``readAhead(_:)`` reads). By
    /// its parsed document; a document that does not parse counts as a query (it runs nothing).
    func operation(_ payload: GraphQLHTTPRequest) -> (kind: OperationType?, buyerCalls: Bool, label: String, order: String?) {
        guard let entry = try? documents.document(payload.query, schema: api.schema.schema) else { return (.query, false, "invalid", nil) }
        let shape = entry.shape
        let label = entry.errors.isEmpty ? shape.root(of: payload.operationName) ?? "invalid" : "invalid"
        let order = entry.errors.isEmpty ? shape.order(of: payload.operationName, variables: payload.variables ?? [:]) : nil
        return (shape.kind(of: payload.operationName), shape.buyerCalls(payload.operationName), label, order)
    }

    /// Starts reading the order a mutation names, when the orders port reads ahead and the id is
    /// one (a malformed id is the mutation's to report).
    func readAhead(_ order: String) -> OrderReadAhead? {
        guard let orders = shop.ports.orders as? any OrderReadingAhead, let id = try? OrderID(validating: order, field: "orderId") else { return nil }
        return orders.start(id)
    }

    /// The client's address: the last entry of the proxy's header when one is configured and
    /// present, else the connection's peer.
    func address(_ request: Request, _ context: ShopRequestContext) -> String? {
        address(request.headers, peer: context.remoteAddress)
    }

    func address(_ headers: HTTPFields, peer: SocketAddress?) -> String? {
        if let name = clientAddressField, let value = headers[name] {
            // Its last entry that is not empty (`split`'s, without the array).
            let entries = value[..<(value.lastIndex { $0 != "," }.map { value.index(after: $0) } ?? value.startIndex)]
            var named = entries[(entries.lastIndex(of: ",").map { entries.index(after: $0) } ?? entries.startIndex)...]
            // The header's optional white space (spaces and tabs) around the entry.
            while named.first == " " || named.first == "\t" { named.removeFirst() }
            while named.last == " " || named.last == "\t" { named.removeLast() }
            if !named.isEmpty { return String(named) }
        }
        return peer?.ipAddress
    }

    /// 429 with a jittered `Retry-After` when the address's bucket is empty; nil otherwise (and
    /// when the limiter cannot be reached: limits protect the shop, they must not stop it).
    func refusal(address: String?) async -> Response? {
        await admit(address: address, buyer: nil).refusal
    }

    /// Takes the address's token and, for a `buyer`, the buyer's first, in one round trip: the
    /// 429 when the address is over (the buyer's bucket untouched), else the buyer's answer for
    /// the request's first business call (nil: not asked).
    func admit(address: String?, buyer: Caller?) async -> (refusal: Response?, buyerToken: BuyerToken?) {
        let (wait, buyerToken) = await limit(address: address, buyer: buyer)
        guard let wait else { return (nil, buyerToken) }
        metrics.outcome("request", "RateLimited")
        return (
            Response(
                status: .tooManyRequests,
                headers: [.contentType: "application/json", .retryAfter: String(Self.retryAfterSeconds(wait))],
                body: .init(byteBuffer: ByteBuffer(bytes: Self.problemBody("too many requests from this address; retry after the Retry-After seconds")))),
            nil
        )
    }

    /// Takes the address's token and, for a `buyer`, the buyer's first, in one round trip: how
    /// long until the address has one when it is over (the buyer's bucket untouched), else the
    /// buyer's answer (nil: not asked).
    func limit(address: String?, buyer: Caller?) async -> (addressWait: Duration?, buyerToken: BuyerToken?) {
        guard let rateLimiter else { return (nil, nil) }
        var keys: [RateLimitedKey] = []
        if configuration.addressLimit.limits, let address { keys.append(RateLimitedKey("address:\(address)", configuration.addressLimit)) }
        let buyerKey = buyer.flatMap(buyerKey)
        if let buyerKey { keys.append(buyerKey) }
        guard !keys.isEmpty else { return (nil, nil) }
        let refused: RateLimitRefusal?
        do { refused = try await rateLimiter.take(keys, at: await shop.ports.clock.now()) } catch {
            logger.warning("rate limiter unreachable; the request goes on", metadata: ["flashdeal.error": "\(error)"])
            return (nil, nil)
        }
        guard let refused else { return (nil, buyerKey.map { _ in BuyerToken(wait: nil) }) }
        guard keys[refused.index] != buyerKey else { return (nil, BuyerToken(wait: refused.retryAfter)) }
        return (refused.retryAfter, nil)
    }

    /// The caller's bucket, when buyers are limited.
    func buyerKey(_ caller: Caller) -> RateLimitedKey? {
        configuration.buyerLimit.limits ? RateLimitedKey("buyer:\(caller.user)", configuration.buyerLimit) : nil
    }

    /// Whole seconds to wait, plus up to a second of jitter, so refused clients do not all come back
    /// in the same instant.
    static func retryAfterSeconds(_ wait: Duration) -> Int {
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        return max(1, Int((seconds + Double.random(in: 0...1)).rounded(.up)))
    }

    /// 401 with the reason and RFC 6750's challenge.
    static func unauthorized(_ error: AuthenticationError) -> Response {
        Response(
            status: .unauthorized,
            headers: [.contentType: "application/json", .wwwAuthenticate: "Bearer error=\"invalid_token\""],
            body: .init(byteBuffer: ByteBuffer(bytes: problemBody("\(error)"))))
    }

    /// Runs one `POST /graphql` body as the route does, for an authenticated `caller`, without the
    /// HTTP layer (what `flashdeal calibrate` times); returns the status and the response body.
    public func execute(body: Data, caller: Caller?) async -> (status: Int, body: Data) {
        guard let payload = try? GraphQLHTTPRequest.parse(body) else {
            return (400, Self.problemBody("not a GraphQL request"))
        }
        let (status, answer, _) = await answer(payload, caller: caller)
        return (Int(status.code), answer)
    }

    /// The request's document, checked against its transport, the limits and its variables (one
    /// parse, cached, decides for every transport).
    func prepare(_ payload: GraphQLHTTPRequest, transport: DocumentCache.Transport) throws -> DocumentCache.Prepared {
        try documents.prepare(
            payload.query, operationName: payload.operationName, variables: payload.variables ?? [:], schema: api.schema.schema,
            transport: transport, limits: limits)
    }

    var limits: DocumentCache.Limits {
        DocumentCache.Limits(
            maxDepth: configuration.maxQueryDepth, maxAliases: configuration.maxAliases, maxCost: configuration.maxCost,
            introspection: configuration.introspection)
    }

    /// The request's context; `buyerToken`: the caller's token for the first business call, when it
    /// was taken with the address's.
    func context(caller: Caller?, buyerToken first: BuyerToken? = nil, span: (any Span)? = nil, notes: RequestNotes? = nil) async -> RequestContext {
        var buyerToken: (@Sendable () async -> Duration?)?
        if rateLimiter != nil, let caller, buyerKey(caller) != nil {
            let taken = Mutex(first)
            buyerToken = {
                if let answer = taken.withLock({ answer in defer { answer = nil }; return answer }) { return answer.wait }
                return await limit(address: nil, buyer: caller).buyerToken?.wait
            }
        }
        return RequestContext(
            shop: shop, caller: caller, now: await shop.ports.clock.now(), metrics: metrics, hub: hub, orderRefusal: orderRefusal, buyerToken: buyerToken,
            waitingRoom: waitingRoom, span: span, notes: notes)
    }

    static func json(body: Data, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The status and JSON body of one GraphQL request, and whether a successful answer is the
    /// same for every caller (a public query without errors).
    func answer(
        _ payload: GraphQLHTTPRequest, caller: Caller?, transport: DocumentCache.Transport = .post, buyerToken: BuyerToken? = nil,
        notes: RequestNotes? = nil
    ) async -> (HTTPResponse.Status, Data, isPublic: Bool) {
        do {
            let prepared = try prepare(payload, transport: transport)
            return try await operationSpan(payload) { span in
                let context = await self.context(caller: caller, buyerToken: buyerToken, span: span, notes: notes)
                let result = ClientErrors.publicResult(
                    try await DocumentCache.execute(prepared, api: api, context: context, variables: payload.variables ?? [:], operationName: payload.operationName),
                    logger: logger)
                guard case .valid(_, _, let isPublic) = prepared else { return (.ok, try ResponseJSON.encode(result), false) }
                return (.ok, try ResponseJSON.encode(result), isPublic && result.errors.isEmpty)
            }
        } catch let error as DocumentCache.ReadOnlyTransport {
            return (.methodNotAllowed, Self.problemBody("\(error)"), false)
        } catch {
            let status: HTTPResponse.Status = ClientErrors.isPublic(error) ? .badRequest : .internalServerError
            return (status, Self.problemBody(ClientErrors.message(error, logger: logger)), false)
        }
    }

    /// An `application/x-www-form-urlencoded` query string's parameters (the first of each name):
    /// `+` is a space, then percent escapes are decoded.
    static func formDecoded(_ query: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), parameters[name] == nil else { continue }
            parameters[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return parameters
    }

    /// `POST /auth/demo` with `{"user": "alice", "admin": false}`: a development token for that
    /// user, valid eight hours (`{"token", "user", "admin"}`); 400 naming what is wrong otherwise.
    static func demoSignIn(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 4096)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            return json(["error": "the body must be a JSON object: {\"user\": \"alice\", \"admin\": false}"], status: .badRequest)
        }
        let admin = object["admin"] as? Bool ?? false
        let user: UserID
        do { user = try UserID(validating: object["user"] as? String ?? "", field: "user") } catch {
            return json(["error": "\(error)"], status: .badRequest)
        }
        let token = try await Authenticator.token(user: user, admin: admin, ttl: .seconds(8 * 3600))
        return json(["token": token, "user": user.rawValue, "admin": admin])
    }

    /// `GET /admin/predictions?deal=<id>` (admins only): `{"deal", "prediction"}`, the newest
    /// simulation stored for a scenario that sells the deal (`DealPrediction`'s JSON), or null with
    /// the `reason` there is none (no store, no such scenario).
    func prediction(_ request: Request) async throws -> Response {
        guard (try? await caller(request.headers))??.isAdmin == true else {
            return Self.json(["error": "predictions are for operators: send a token with the admin role"], status: .forbidden)
        }
        guard let text = request.uri.queryParameters.get("deal"), let deal = try? DealID(validating: text, field: "deal") else {
            return Self.json(["error": "name the deal: /admin/predictions?deal=<id>"], status: .badRequest)
        }
        guard let predictions else {
            return Self.json(["deal": deal.rawValue, "prediction": NSNull(), "reason": "this server reads no results store (serve --api-predictions FILE)"])
        }
        guard let found = try await predictions(deal), let prediction = try? JSONSerialization.jsonObject(with: found) else {
            return Self.json(["deal": deal.rawValue, "prediction": NSNull(), "reason": "no simulation of a scenario with deal \(deal) is stored"])
        }
        return Self.json(["deal": deal.rawValue, "prediction": prediction])
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A malformed request: the standard GraphQL error shape with the reason.
    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: problemBody(message))))
    }

    static func problemBody(_ message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["errors": [["message": message]]], options: [.sortedKeys])) ?? Data()
    }
}


/// Counts every request by route and status and records its duration.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = ShopRequestContext
    let metrics: ShopMetrics
    static let routes: Set<String> = ["/graphql", "/health/live", "/health/ready", "/metrics"]

    /// A request's route label: a known route by name, anything else as `other` (clients cannot
    /// grow the metrics or the span names).
    static func route(of request: Request) -> String {
        routes.contains(request.uri.path) ? request.uri.path : "other"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = Self.route(of: request)
        do {
            let response = try await next(request, context)
            metrics.request(route: route, status: Int(response.status.code), duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: route, status: Int(status), duration: ContinuousClock.now - start)
            throw error
        }
    }
}
