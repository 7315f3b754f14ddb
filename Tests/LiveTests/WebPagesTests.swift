import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import LiveAPI
import LiveWeb
import Testing

/// The storefront's and the console's files as `flashdeal serve` answers them, and the embedded
/// shop's demo sign-in. (What the pages do is the browser tests', `Tests/Browser`.)
@Suite struct WebPagesTests {
    /// The repository's own copy of the pages.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Live/Web/Public").path

    @Test func pagesAreServedWithTheirTypeAPolicyAndAValidator() async throws {
        let pages = try WebPages(root: Self.root)
        let router = Router()
        pages.add(to: router)
        try await Application(router: router).test(.router) { client in
            for (path, type, marker) in [
                ("/", "text/html; charset=utf-8", "/assets/js/store.js"), ("/admin", "text/html; charset=utf-8", "/assets/js/admin.js"),
                ("/assets/js/graphql.js", "text/javascript; charset=utf-8", "graphql-transport-ws"),
                ("/assets/css/app.css", "text/css; charset=utf-8", ":root"),
            ] {
                let etag = try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == type, "\(path)")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true, "\(path)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(String(buffer: response.body).contains(marker), "\(path)")
                    return try #require(response.headers[.eTag])
                }
                // Unchanged: 304 and no body.
                try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: etag]) { response in
                    #expect(response.status == .notModified && response.body.readableBytes == 0, "\(path)")
                }
            }
            for path in ["/assets/nothing.js", "/assets/../../Package.swift", "/assets/index.html"] {
                try await client.execute(uri: path, method: .get) { response in #expect(response.status == .notFound, "\(path)") }
            }
        }
    }

    @Test func aMissingFolderIsNamed() throws {
        #expect(throws: WebPagesError.self) { _ = try WebPages(root: "/nonexistent/flashdeal-web") }
        do { _ = try WebPages(root: "/nonexistent/flashdeal-web") } catch {
            #expect("\(error)".contains("/nonexistent/flashdeal-web") && "\(error)".contains("api.webRoot"))
        }
    }

    /// Only where the development secret signs anyway: the embedded shop with no key of its own.
    @Test func theDemoSignInSignsATokenForANameOrNamesWhatIsWrong() async throws {
        let memory = InMemoryShop()
        for enabled in [true, false] {
            let router = try ShopRouter(shop: memory.shop, configuration: .init(demoSignIn: enabled)).router()
            try await Application(router: router).test(.router) { client in
                let body = ByteBuffer(string: #"{"user": "alice", "admin": true}"#)
                try await client.execute(uri: "/auth/demo", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                    guard enabled else { return #expect(response.status == .notFound) }
                    #expect(response.status == .ok)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    let caller = try await Authenticator.development.caller(authorization: "Bearer \(try #require(json["token"] as? String))")
                    #expect(caller == Caller(user: "alice", isAdmin: true))
                }
                guard enabled else { return }
                for bad in [#"{"user": "a b"}"#, #"{"admin": true}"#, "not json"] {
                    try await client.execute(uri: "/auth/demo", method: .post, body: ByteBuffer(string: bad)) { response in
                        #expect(response.status == .badRequest, "\(bad)")
                        #expect(String(buffer: response.body).contains("user") || String(buffer: response.body).contains("JSON"), "\(bad)")
                    }
                }
            }
        }
    }
}

/// `GET /admin/predictions?deal=`: an operator's, and only an operator's, view of what the
/// simulator predicted for a deal.
@Suite struct PredictionRouteTests {
    @Test func onlyOperatorsReadAPredictionAndEachRefusalSaysWhy() async throws {
        let memory = InMemoryShop()
        let stored = Data(#"{"dealID":"deal-1","p95Ms":12.5,"runID":7,"scenario":"flash-spike"}"#.utf8)
        let withStore = try ShopRouter(shop: memory.shop, predictions: { deal in deal == "deal-1" ? stored : nil }).router()
        let without = try ShopRouter(shop: memory.shop).router()
        let admin = try await Authenticator.bearer("ops", admin: true), buyer = try await Authenticator.bearer("u-1")
        func get(_ router: Router<ShopRequestContext>, _ uri: String, _ authorization: String?) async throws -> (HTTPResponse.Status, String) {
            try await Application(router: router).test(.router) { client in
                var headers: HTTPFields = [:]
                if let authorization { headers[.authorization] = authorization }
                return try await client.execute(uri: uri, method: .get, headers: headers) { ($0.status, String(buffer: $0.body)) }
            }
        }
        let found = try await get(withStore, "/admin/predictions?deal=deal-1", admin)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(found.1.utf8)) as? [String: Any])
        #expect(found.0 == .ok && object["deal"] as? String == "deal-1")
        #expect((object["prediction"] as? [String: Any])?["p95Ms"] as? Double == 12.5)
        #expect(try await get(withStore, "/admin/predictions?deal=deal-1", buyer).0 == .forbidden)
        #expect(try await get(withStore, "/admin/predictions?deal=deal-1", nil).0 == .forbidden)
        #expect(try await get(withStore, "/admin/predictions", admin).0 == .badRequest)
        // None: null, and why.
        let unknown = try await get(withStore, "/admin/predictions?deal=deal-9", admin)
        #expect(unknown.0 == .ok && unknown.1.contains(#""prediction":null"#) && unknown.1.contains("deal-9 is stored"))
        let none = try await get(without, "/admin/predictions?deal=deal-1", admin)
        #expect(none.0 == .ok && none.1.contains(#""prediction":null"#) && none.1.contains("api-predictions"))
    }
}
