public import Domain
import Foundation
public import Graphiti

/// The GraphQL resolvers: every business decision is the Domain's (`Shop`); this only maps
/// arguments in and outcomes out.
public struct ShopResolver: Sendable {
    public init() {}

    struct IDArguments: Codable, Sendable { let id: GraphID }

    struct DealsArguments: Codable, Sendable {
        let status: DealStatusValue?
        let first: Int?
        let after: String?
    }

    struct PageArguments: Codable, Sendable {
        let first: Int?
        let after: String?
    }

    static let maxPage = 100

    static func cursor(_ id: String) -> String { Data("cursor:\(id)".utf8).base64EncodedString() }

    static func id(fromCursor cursor: String?, field: String = "after") throws -> String? {
        guard let cursor else { return nil }
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("cursor:") else {
            throw ValidationError(field: field, reason: "is not a cursor this API issued")
        }
        return String(text.dropFirst("cursor:".count))
    }

    static func pageSize(_ first: Int?) throws -> Int {
        let size = first ?? 20
        guard (1...maxPage).contains(size) else { throw ValidationError(field: "first", reason: "must be between 1 and \(maxPage)") }
        return size
    }

    /// Deals in id order, keyset-paginated (stable under inserts), optionally by status.
    func deals(context: RequestContext, arguments: DealsArguments) async throws -> Connection<DealNode> {
        let size = try Self.pageSize(arguments.first)
        var cursor = try Self.id(fromCursor: arguments.after).map { try DealID(validating: $0, field: "after") }
        var page: [DealNode] = []
        // Filtering by status may skip deals: keep reading until the page is full or none are left.
        while page.count <= size {
            let batch = try await context.shop.ports.catalog.deals(after: cursor, limit: size + 1)
            try await context.prime(deals: batch)
            for terms in batch {
                guard let node = try await context.deal(terms.id) else { continue }
                if arguments.status == nil || node.status == arguments.status { page.append(node) }
            }
            guard batch.count == size + 1, let last = batch.last else { break }
            cursor = last.id
        }
        return try page.connection(from: ForwardPaginationArguments(first: size, after: nil)) { Self.cursor($0.id.rawValue) }
    }

    func deal(context: RequestContext, arguments: IDArguments) async throws -> DealNode? {
        let id = try DealID(validating: arguments.id.rawValue, field: "id")
        return try await context.deal(id)
    }

    func product(context: RequestContext, arguments: IDArguments) async throws -> ProductNode? {
        try await context.products.load(try ProductID(validating: arguments.id.rawValue, field: "id")).map(ProductNode.init)
    }

    func order(context: RequestContext, arguments: IDArguments) async throws -> OrderNode? {
        let user = try Self.caller(context)
        guard let order = try await context.shop.ports.orders.order(try OrderID(validating: arguments.id.rawValue, field: "id")),
            order.userID == user
        else { return nil }
        return OrderNode(order)
    }

    func myOrders(context: RequestContext, arguments: PageArguments) async throws -> Connection<OrderNode> {
        let user = try Self.caller(context)
        let size = try Self.pageSize(arguments.first)
        let after = try Self.id(fromCursor: arguments.after).map { try OrderID(validating: $0, field: "after") }
        let orders = try await context.shop.ports.orders.orders(of: user, after: after, limit: size + 1)
        // One catalog call for the page's deals, through the loader the nested `deal` fields read.
        let ids = Array(Set(orders.map(\.dealID))).sorted()
        try await context.deals.prime(ids)
        var terms: [DealTerms] = []
        for id in ids { if let t = try await context.deals.load(id) { terms.append(t) } }
        try await context.prime(deals: terms)
        return try orders.map(OrderNode.init).connection(from: ForwardPaginationArguments(first: size, after: nil)) { Self.cursor($0.id.rawValue) }
    }

    static func caller(_ context: RequestContext) throws -> UserID {
        guard let user = context.userID else { throw ValidationError(field: Identity.authorization, reason: "is required: a buyer's token") }
        return user
    }
}
