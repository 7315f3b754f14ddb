import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LiveAPI
import Testing

/// The GraphQL API over HTTP on the in-memory adapters.
@Suite struct GraphQLAPITests {
    static func app() async throws -> (some ApplicationProtocol, InMemoryShop) {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop).router()
        return (Application(router: router), memory)
    }

    static func post(_ client: some TestClientProtocol, _ query: String, user: String? = "u-1", variables: [String: Any] = [:]) async throws -> [String: Any] {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let user { headers[.authorization] = try await Authenticator.bearer(user, admin: user == "admin") }
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            #expect(response.status == .ok)
            return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
        }
    }

    static let place = """
        mutation($key: String!, $q: Int!) {
          placeOrder(input: {dealId: "deal-sneakers", quantity: $q, idempotencyKey: $key}) {
            __typename
            ... on OrderPlaced { order { id status quantity deal { id available } } }
            ... on PurchaseLimitExceeded { limit remaining }
            ... on SoldOut { available }
            ... on InvalidInput { field message }
          }
        }
        """

    @Test func placeOrderReturnsUnionMembers() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let first = try await Self.post(client, Self.place, variables: ["key": "k1", "q": 2])
            let placed = ((first["data"] as! [String: Any])["placeOrder"] as! [String: Any])
            #expect(placed["__typename"] as? String == "OrderPlaced")
            let order = placed["order"] as! [String: Any]
            #expect(order["status"] as? String == "RESERVED")
            #expect((order["deal"] as! [String: Any])["available"] as? Int == 98)
            // The same key again: the same order, nothing taken.
            let again = try await Self.post(client, Self.place, variables: ["key": "k1", "q": 2])
            #expect((((again["data"] as! [String: Any])["placeOrder"] as! [String: Any])["order"] as! [String: Any])["id"] as? String == order["id"] as? String)
            // Over the limit is a business outcome, not an error.
            let over = try await Self.post(client, Self.place, variables: ["key": "k2", "q": 1])
            let limit = (over["data"] as! [String: Any])["placeOrder"] as! [String: Any]
            #expect(limit["__typename"] as? String == "PurchaseLimitExceeded" && over["errors"] == nil)
            let invalid = try await Self.post(client, Self.place, variables: ["key": "bad key!", "q": 1])
            #expect(((invalid["data"] as! [String: Any])["placeOrder"] as! [String: Any])["field"] as? String == "idempotencyKey")
        }
    }

    @Test func payAndCancelFlow() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let placed = try await Self.post(client, Self.place, variables: ["key": "k1", "q": 1])
            let id = ((((placed["data"] as! [String: Any])["placeOrder"] as! [String: Any])["order"] as! [String: Any])["id"] as! String)
            let pay = try await Self.post(client, #"mutation { payOrder(input: {orderId: "\#(id)", idempotencyKey: "p1"}) { __typename ... on OrderPaid { order { status } } } }"#)
            #expect(((pay["data"] as! [String: Any])["payOrder"] as! [String: Any])["__typename"] as? String == "OrderPaid")
            let cancel = try await Self.post(client, #"mutation { cancelOrder(input: {orderId: "\#(id)"}) { __typename ... on OrderRefunded { order { status } } } }"#)
            let refunded = (cancel["data"] as! [String: Any])["cancelOrder"] as! [String: Any]
            #expect(refunded["__typename"] as? String == "OrderRefunded")
            // Someone else's order does not exist for them.
            let other = try await Self.post(client, #"{ order(id: "\#(id)") { id } }"#, user: "u-2")
            #expect((other["data"] as! [String: Any])["order"] is NSNull)
        }
    }

    @Test func dealsConnectionPagesWithOpaqueCursors() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let q = "query($after: String) { deals(first: 1, after: $after) { edges { cursor node { id status product { name } } } pageInfo { hasNextPage endCursor } } }"
            let first = try await Self.post(client, q)
            let connection = (first["data"] as! [String: Any])["deals"] as! [String: Any]
            let edges = connection["edges"] as! [[String: Any]]
            let pageInfo = connection["pageInfo"] as! [String: Any]
            #expect(edges.count == 1 && pageInfo["hasNextPage"] as? Bool == true)
            #expect(((edges[0]["node"] as! [String: Any])["id"] as? String) == "deal-headphones")
            #expect(((edges[0]["node"] as! [String: Any])["status"] as? String) == "SCHEDULED")
            let second = try await Self.post(client, q, variables: ["after": pageInfo["endCursor"] as! String])
            let next = (second["data"] as! [String: Any])["deals"] as! [String: Any]
            let node = ((next["edges"] as! [[String: Any]])[0]["node"] as! [String: Any])
            #expect(node["id"] as? String == "deal-sneakers" && node["status"] as? String == "LIVE")
            #expect(((node["product"] as! [String: Any])["name"] as? String) == "Limited sneakers")
            #expect((next["pageInfo"] as! [String: Any])["hasNextPage"] as? Bool == false)
            let live = try await Self.post(client, "{ deals(status: LIVE) { edges { node { id } } } }")
            #expect((((live["data"] as! [String: Any])["deals"] as! [String: Any])["edges"] as! [[String: Any]]).count == 1)
        }
    }

    /// Times read as ISO 8601 in UTC with milliseconds, formatted from the deal's terms and the
    /// order's instants when a query asks for them.
    @Test func timesReadAsISO8601() async throws {
        let (app, memory) = try await Self.app()
        let terms = try DealTerms(
            id: DealID("deal-times"), productID: "console-mini", price: Money(minorUnits: 100),
            startsAt: .seconds(1_700_000_000), endsAt: .seconds(1_800_000_000), perUserLimit: 1,
            reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5)
        _ = try await memory.shop.scheduleDeal(terms)
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        @Sendable func iso(_ instant: Instant) -> String {
            Date(timeIntervalSince1970: Double(instant.nanosecondsSinceEpoch) / 1e9).formatted(format)
        }
        try await app.test(.router) { client in
            let deal = try await Self.post(client, #"{ deal(id: "deal-times") { startsAt endsAt } }"#)
            let times = (deal["data"] as! [String: Any])["deal"] as! [String: Any]
            #expect(times["startsAt"] as? String == "2023-11-14T22:13:20.000Z")
            #expect(times["endsAt"] as? String == "2027-01-15T08:00:00.000Z")

            let place = #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k-times"}) { ... on OrderPlaced { order { id createdAt expiresAt paymentDeadline } } } }"#
            let placed = try await Self.post(client, place)
            let order = ((placed["data"] as! [String: Any])["placeOrder"] as! [String: Any])["order"] as! [String: Any]
            let stored = try #require(try await memory.orders.order(OrderID(order["id"] as! String)))
            #expect(order["createdAt"] as? String == iso(stored.placedAt))
            #expect(order["expiresAt"] as? String == iso(stored.expiresAt))
            #expect(order["paymentDeadline"] as? String == iso(stored.paymentDeadline))
        }
    }

    /// The N+1 is gone: a page of deals loads its products in one catalog call.
    @Test func nestedProductsAreBatched() async throws {
        let (app, memory) = try await Self.app()
        for i in 0..<10 {
            let terms = try DealTerms(
                id: DealID("deal-x\(i)"), productID: i % 2 == 0 ? "console-mini" : "headphones-x", price: Money(minorUnits: 100),
                startsAt: .seconds(1_700_000_000), endsAt: .seconds(1_800_000_000), perUserLimit: 1,
                reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5)
            _ = try await memory.shop.scheduleDeal(terms)
        }
        try await app.test(.router) { client in
            let before = await memory.catalog.calls
            _ = try await Self.post(client, "{ deals(first: 12) { edges { node { id product { name } } } } }")
            let after = await memory.catalog.calls
            #expect(after["product", default: 0] == before["product", default: 0], "no product loaded one by one")
            #expect(after["products", default: 0] - before["products", default: 0] == 1)
        }
    }

    @Test func malformedRequestsGetAClearError() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/graphql", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{nope")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("not a GraphQL request"))
            }
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: 200_000)
            try await client.execute(uri: "/graphql", method: .post, headers: [.contentType: "application/json"], body: huge) { response in
                #expect(response.status == .contentTooLarge)
            }
            let deep = "{ " + String(repeating: "deals { edges { node { ", count: 5) + "id" + String(repeating: " } } }", count: 5) + " }"
            try await client.execute(uri: "/graphql?query=" + deep.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("levels deep"))
            }
            // Wrong types are GraphQL errors naming the argument, never a crash.
            let wrong = try await Self.post(client, #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: "two", idempotencyKey: "k"}) { __typename } }"#)
            let message = ((wrong["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
            #expect(message.contains("quantity") || message.contains("Int"), "\(message)")
            try await client.execute(uri: "/health/live", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/health/ready", method: .get) { #expect($0.status == .ok) }
        }
    }
}

@Suite struct AdminMutationTests {
    /// GET answers with the raw body and status, the query string encoded as a browser's form.
    static func get(_ client: some TestClientProtocol, _ parameters: [(String, String)]) async throws -> (HTTPResponse.Status, String) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~ ")
        let query = parameters.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!.replacingOccurrences(of: " ", with: "+"))" }
        return try await client.execute(uri: "/graphql?" + query.joined(separator: "&"), method: .get, headers: [.authorization: try await Authenticator.bearer("u-1")]) {
            ($0.status, String(buffer: $0.body))
        }
    }

    /// One parse decides what a request runs: GET runs a mutation neither after a comment line nor
    /// as the named operation of a document of two; the named query of the same document runs.
    @Test func getRunsOnlyTheQueriesTheParsedDocumentHolds() async throws {
        let (app, memory) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            let order = "mutation { placeOrder(input: {dealId: \"deal-sneakers\", quantity: 1, idempotencyKey: \"g\"}) { __typename } }"
            let (commented, body) = try await Self.get(client, [("query", "#x\n" + order)])
            #expect(commented == .methodNotAllowed && body.contains("needs POST"), "\(commented) \(body)")
            let two = "query Read { deals(first: 1) { edges { node { id } } } } " + order.replacingOccurrences(of: "mutation", with: "mutation Buy")
            let (named, _) = try await Self.get(client, [("query", two), ("operationName", "Buy")])
            #expect(named == .methodNotAllowed)
            let (read, answer) = try await Self.get(client, [("query", two), ("operationName", "Read")])
            #expect(read == .ok && answer.contains("\"node\":{\"id\":\"deal-") && !answer.contains("errors"), "\(answer)")
            #expect(try await memory.ledger.stock("deal-sneakers")?.inventory.reserved == 0, "nothing was ordered over GET")
            // `+` is a space, as URLSearchParams and curl --data-urlencode write it.
            let (plus, spaced) = try await client.execute(uri: "/graphql?query={+deals(first:+1)+{+edges+{+node+{+id+}+}+}+}", method: .get) {
                ($0.status, String(buffer: $0.body))
            }
            #expect(plus == .ok && spaced.contains("\"node\":{\"id\":\"deal-"), "\(spaced)")
        }
    }

    /// Depth is measured on the syntax tree: a string's quote in a comment does not hide it,
    /// fragments count where they are spread, inline fragments add no level.
    @Test func depthIsMeasuredOnTheSyntaxTree() async throws {
        let (app, _) = try await GraphQLAPITests.app()
        // `levels` selection sets counting the enclosing one: `{ nested(3) }` is `{ a { a { b } } }`.
        @Sendable func nested(_ levels: Int) -> String { String(repeating: "a { ", count: levels - 1) + "b" + String(repeating: " }", count: levels - 1) }
        try await app.test(.router) { client in
            let (commented, body) = try await Self.get(client, [("query", "# \"\n{ " + nested(42) + " }")])
            #expect(commented == .badRequest && body.contains("nests 42 levels deep"), "\(body)")
            let (spread, spreadBody) = try await Self.get(client, [("query", "{ ...F } fragment F on Query { " + nested(13) + " }")])
            #expect(spread == .badRequest && spreadBody.contains("nests 13 levels deep"), "\(spreadBody)")
            // Twelve levels inside an inline fragment are within the limit (then not valid fields).
            let (inline, inlineBody) = try await Self.get(client, [("query", "{ ... on Query { " + nested(12) + " } }")])
            #expect(inline == .ok && !inlineBody.contains("levels deep") && inlineBody.contains("errors"), "\(inlineBody)")
        }
    }

    @Test func adminCreatesSchedulesStartsAndSellsOut() async throws {
        let (app, _) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            func typename(_ result: [String: Any], _ field: String) -> String? {
                ((result["data"] as? [String: Any])?[field] as? [String: Any])?["__typename"] as? String
            }
            let create = #"mutation { createProduct(input: {id: "tv-55", name: "TV", description: "OLED"}) { __typename } }"#
            let refused = try await GraphQLAPITests.post(client, create, user: "u-1")
            #expect(typename(refused, "createProduct") == nil)
            #expect(String(describing: refused["errors"] ?? "").contains("admin mutations need a token with the admin role"))
            let product = try await GraphQLAPITests.post(client, create, user: "admin")
            #expect(typename(product, "createProduct") == "ProductCreated")
            let bad = try await GraphQLAPITests.post(client, #"mutation { createProduct(input: {id: "tv 55", name: "TV", description: ""}) { __typename ... on InvalidInput { field } } }"#, user: "admin")
            #expect(typename(bad, "createProduct") == "InvalidInput")
            let schedule = #"mutation { scheduleDeal(input: {id: "deal-tv", productId: "tv-55", price: 990000, startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z", perUserLimit: 1, stock: 1, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { __typename } }"#
            #expect(typename(try await GraphQLAPITests.post(client, schedule, user: "admin"), "scheduleDeal") == "DealUpdated")
            let wrongTime = try await GraphQLAPITests.post(client, schedule.replacingOccurrences(of: "2099-01-01T00:00:00Z", with: "tomorrow"), user: "admin")
            #expect(typename(wrongTime, "scheduleDeal") == "InvalidInput")
            #expect(typename(try await GraphQLAPITests.post(client, #"mutation { startDeal(id: "deal-tv") { __typename } }"#, user: "admin"), "startDeal") == "DealUpdated")
            let order = #"mutation { placeOrder(input: {dealId: "deal-tv", quantity: 1, idempotencyKey: "k"}) { __typename } }"#
            #expect(typename(try await GraphQLAPITests.post(client, order, user: "a"), "placeOrder") == "OrderPlaced")
            #expect(typename(try await GraphQLAPITests.post(client, order, user: "b"), "placeOrder") == "SoldOut")
            #expect(typename(try await GraphQLAPITests.post(client, #"mutation { restock(id: "deal-tv", quantity: 1) { __typename } }"#, user: "admin"), "restock") == "DealUpdated")
            #expect(typename(try await GraphQLAPITests.post(client, order, user: "b"), "placeOrder") == "OrderPlaced")
        }
    }
}

/// A deal scheduled through the API has the buyer rules by default: a cool-down after a
/// cancellation, and a cap on unpaid reservations across cancellations.
@Suite struct BuyerRulesAPITests {
    static func field(_ answer: [String: Any], _ name: String) -> [String: Any] {
        (answer["data"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    }

    @Test func aDealHasTheBuyerRulesByDefaultAndAnswersThemAsUnionMembers() async throws {
        let (app, memory) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            _ = try await GraphQLAPITests.post(client, #"mutation { createProduct(input: {id: "tv-55", name: "TV", description: "OLED"}) { __typename } }"#, user: "admin")
            let schedule = #"mutation { scheduleDeal(input: {id: "deal-tv", productId: "tv-55", price: 990000, startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z", perUserLimit: 1, stock: 5, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { ... on DealUpdated { deal { reservationCap cancelCoolDownSeconds } } } }"#
            let answer = try await GraphQLAPITests.post(client, schedule, user: "admin")
            let deal = Self.field(answer, "scheduleDeal")["deal"] as? [String: Any] ?? [:]
            #expect(deal["reservationCap"] as? Int == 3 && deal["cancelCoolDownSeconds"] as? Int == 10, "\(answer)")
            // The same defaults when the input comes as a variable (GraphQL 4.3 fills an input
            // field's default only in a literal).
            let byVariable = try await GraphQLAPITests.post(client, "mutation($in: ScheduleDealInput!) { scheduleDeal(input: $in) { ... on DealUpdated { deal { reservationCap cancelCoolDownSeconds waitingRoom { ticketTtlSeconds } } } } }", user: "admin", variables: ["in": [
                "id": "deal-var", "productId": "tv-55", "price": 1, "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z", "perUserLimit": 1,
                "stock": 1, "reservationTtlSeconds": 600, "paymentWindowSeconds": 300, "waitingRoomAdmissionRate": 5.0,
            ]])
            let variableDeal = Self.field(byVariable, "scheduleDeal")["deal"] as? [String: Any] ?? [:]
            #expect(variableDeal["reservationCap"] as? Int == 3 && variableDeal["cancelCoolDownSeconds"] as? Int == 10, "\(byVariable)")
            #expect((variableDeal["waitingRoom"] as? [String: Any])?["ticketTtlSeconds"] as? Int == 60, "\(byVariable)")
            _ = try await GraphQLAPITests.post(client, #"mutation { startDeal(id: "deal-tv") { __typename } }"#, user: "admin")
            let place = """
                mutation($key: String!) { placeOrder(input: {dealId: "deal-tv", quantity: 1, idempotencyKey: $key}) {
                  __typename ... on OrderPlaced { order { id } } ... on CancelCoolDown { dealId retryAfterMs } ... on ReservationCapReached { cap } } }
                """
            let cancel = #"mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { __typename } }"#
            for round in 1...3 {
                let placed = Self.field(try await GraphQLAPITests.post(client, place, variables: ["key": "k-\(round)"]), "placeOrder")
                let id = try #require((placed["order"] as? [String: Any])?["id"] as? String, "round \(round): \(placed)")
                #expect(Self.field(try await GraphQLAPITests.post(client, cancel, variables: ["id": id]), "cancelOrder")["__typename"] as? String == "OrderCancelled")
                await memory.clock.advance(by: .seconds(4))
                let cooling = Self.field(try await GraphQLAPITests.post(client, place, variables: ["key": "k-cool-\(round)"]), "placeOrder")
                #expect(cooling["__typename"] as? String == "CancelCoolDown" && cooling["retryAfterMs"] as? Int == 6000, "\(cooling)")
                await memory.clock.advance(by: .seconds(6))
            }
            let capped = Self.field(try await GraphQLAPITests.post(client, place, variables: ["key": "k-4"]), "placeOrder")
            #expect(capped["__typename"] as? String == "ReservationCapReached" && capped["cap"] as? Int == 3, "\(capped)")
            let bad = schedule.replacingOccurrences(of: "deal-tv", with: "deal-2").replacingOccurrences(of: "paymentWindowSeconds: 300", with: "paymentWindowSeconds: 300, reservationCap: 1001")
            let refused = Self.field(try await GraphQLAPITests.post(client, bad.replacingOccurrences(of: "... on DealUpdated", with: "__typename ... on InvalidInput { field } ... on DealUpdated"), user: "admin"), "scheduleDeal")
            #expect(refused["__typename"] as? String == "InvalidInput" && refused["field"] as? String == "reservationCap", "\(refused)")
        }
    }
}

@Suite struct MetricsEndpointTests {
    @Test func metricsCountRequestsAndOutcomes() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let app = Application(router: try ShopRouter(shop: memory.shop).router())
        try await app.test(.router) { client in
            _ = try await GraphQLAPITests.post(client, GraphQLAPITests.place, variables: ["key": "k1", "q": 2])
            _ = try await GraphQLAPITests.post(client, GraphQLAPITests.place, variables: ["key": "k2", "q": 1])
            _ = try await GraphQLAPITests.post(client, #"{ deal(id: "deal-sneakers") { id } }"#)
            let invalid = try await GraphQLAPITests.post(client, "{ noSuchField123 }")
            #expect(invalid["errors"] != nil)
            for path in ["/nope-1", "/nope-2"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound) }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"flashdeal_business_outcomes_total{operation="placeOrder",outcome="OrderPlaced"} 1"#), "\(text)")
                #expect(text.contains(#"flashdeal_business_outcomes_total{operation="placeOrder",outcome="PurchaseLimitExceeded"} 1"#))
                #expect(text.contains(#"flashdeal_http_requests_total{route="/graphql",status="200"} 4"#))
                // Paths the server does not serve share one label: clients cannot grow the metrics.
                #expect(text.contains(#"flashdeal_http_requests_total{route="other",status="404"} 2"#) && !text.contains("nope"))
                #expect(text.contains("flashdeal_http_request_duration_seconds_bucket"))
                // Each GraphQL operation's duration by its first root field; a document that does
                // not validate is `invalid`, so clients cannot grow the metrics.
                #expect(text.contains(#"flashdeal_graphql_operation_duration_seconds_count{operation="placeOrder"} 2"#), "\(text)")
                #expect(text.contains(#"flashdeal_graphql_operation_duration_seconds_count{operation="deal"} 1"#))
                #expect(text.contains(#"flashdeal_graphql_operation_duration_seconds_count{operation="invalid"} 1"#) && !text.contains("noSuchField123"))
                // The SLO's threshold is a bucket boundary.
                #expect(text.contains(#"flashdeal_graphql_operation_duration_seconds_bucket{operation="placeOrder",le="0.15"} "#))
                // The process's own series, as every Prometheus client names them: the CPU so far
                // (what calibrate divides among a phase's requests), memory, files, start time.
                func value(_ name: String) -> Double? {
                    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                let cpu = try #require(value("process_cpu_seconds_total"))
                var usage = rusage()
                getrusage(RUSAGE_SELF.rawValue, &usage)
                #expect(cpu > 0 && cpu <= Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 2)
                #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000 && (value("process_open_fds") ?? 0) > 2)
                #expect(abs((value("process_start_time_seconds") ?? 0) - Date().timeIntervalSince1970) < 3600)
            }
        }
    }
}

@Suite struct MyOrdersTests {
    /// A buyer's orders page loads the orders' deals with one catalog call.
    @Test func myOrdersPageLoadsItsDealsOnce() async throws {
        let (app, memory) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            for key in ["k1", "k2"] { _ = try await GraphQLAPITests.post(client, GraphQLAPITests.place, variables: ["key": key, "q": 1]) }
            let before = await memory.catalog.calls
            let page = try await GraphQLAPITests.post(client, "{ myOrders(first: 5) { edges { node { status deal { id available } } } pageInfo { hasNextPage } } }")
            let after = await memory.catalog.calls
            let edges = ((page["data"] as! [String: Any])["myOrders"] as! [String: Any])["edges"] as! [[String: Any]]
            #expect(edges.count == 2)
            #expect(edges.allSatisfy { (($0["node"] as! [String: Any])["deal"] as! [String: Any])["id"] as? String == "deal-sneakers" })
            #expect(after["deals", default: 0] - before["deals", default: 0] == 1)
            #expect(after["deal", default: 0] == before["deal", default: 0])
        }
    }
}
