import Foundation
import GraphQL

/// Parsed and validated GraphQL documents by query text. A flash sale sends the same few
/// operations with different variables, and parsing plus validation cost more CPU than executing
/// (about a quarter of a request's CPU, measured with `perf` under `make bench-live`). Bounded: when
/// full it starts over, so a client sending endless distinct queries costs memory only up to the
/// bound. A query that does not parse is not kept.
final class DocumentCache: @unchecked Sendable {
    // Safe: `entries` is read and written under `lock`.
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private let capacity: Int

    enum Entry {
        /// `isPublic`: one query whose root fields read only the catalogue (`deal`, `deals`,
        /// `product`): its answer is the same for every caller, so it may be served from
        /// `ShopRouter`'s response cache.
        case valid(Document, isPublic: Bool)
        case invalid([GraphQLError])
    }

    /// Root fields whose answers do not depend on the caller.
    static let publicRootFields: Set<String> = ["deal", "deals", "product", "__typename"]

    static func isPublic(_ document: Document) -> Bool {
        guard document.definitions.count == 1, let operation = document.definitions.first as? OperationDefinition,
            operation.operation == .query
        else { return false }
        return operation.selectionSet.selections.allSatisfy { selection in
            guard let field = selection as? Field else { return false }
            return publicRootFields.contains(field.name.value)
        }
    }

    init(capacity: Int = 512) { self.capacity = capacity }

    /// The document for `query`, parsed and validated against `schema` once. Throws a parse error.
    func document(_ query: String, schema: GraphQLSchema) throws -> Entry {
        if let entry = lock.withLock({ entries[query] }) { return entry }
        let document = try parse(source: Source(body: query, name: "GraphQL request"))
        let errors = validate(schema: schema, ast: document, rules: specifiedRules)
        let entry: Entry = errors.isEmpty ? .valid(document, isPublic: Self.isPublic(document)) : .invalid(errors)
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[query] = entry
        }
        return entry
    }

    /// Executes a query or mutation through the cache (what `graphql(schema:request:…)` does, minus
    /// the repeated parse and validation); says whether the answer is the same for every caller.
    func execute(
        _ query: String, api: ShopAPI, context: RequestContext, variables: [String: Map], operationName: String?
    ) async throws -> (result: GraphQLResult, isPublic: Bool) {
        switch try document(query, schema: api.schema.schema) {
        case .invalid(let errors):
            return (GraphQLResult(errors: errors), false)
        case .valid(let document, let isPublic):
            let result = try await GraphQL.execute(
                schema: api.schema.schema, documentAST: document, rootValue: api.resolver, context: context,
                variableValues: variables, operationName: operationName)
            return (result, isPublic)
        }
    }
}
