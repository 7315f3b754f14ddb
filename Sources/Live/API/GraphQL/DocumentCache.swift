import Domain
import Foundation
import GraphQL

/// Parsed and validated GraphQL documents by query text, each with its shape: the one parse that
/// decides, for HTTP GET, POST and the WebSocket alike, which operation a request runs, of what
/// kind, how deep it nests and how many aliases it uses. A flash sale sends the same few
/// operations with different variables, and parsing plus validation cost more CPU than executing
/// (about a quarter of a request's CPU, measured with `perf` under `make bench-live`). Bounded: when
/// full it starts over, so a client sending endless distinct queries costs memory only up to the
/// bound. A query that does not parse is not kept.
final class DocumentCache: @unchecked Sendable {
    // Safe: `entries` is read and written under `lock`.
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private let capacity: Int

    /// A parsed document, its shape and what validation found (nothing: it may run).
    struct Entry {
        var document: Document
        var shape: Shape
        var errors: [GraphQLError]
    }

    /// What a request may do depends on how it came.
    enum Transport: Sendable {
        /// GET runs queries only (the GraphQL-over-HTTP spec: a GET must not change anything).
        case get
        case post
        case webSocket
    }

    /// What the syntax tree says about a document, measured once when it is cached.
    struct Shape: Sendable {
        /// Each operation's name (nil when anonymous) and kind, in document order.
        var operations: [(name: String?, kind: OperationType)]
        /// The deepest nesting of selection sets, the operation's own counting as one and
        /// fragments expanded (a fragment or an inline fragment adds no level of its own).
        var depth: Int
        /// Fields written with an alias, fragments expanded.
        var aliases: Int
        /// One query whose root fields read only the catalogue (`deal`, `deals`, `product`): its
        /// answer is the same for every caller, so it may be served from `ShopRouter`'s response
        /// cache.
        var isPublic: Bool

        /// The kind of the operation a request with `operationName` runs: the one of that name, or
        /// the only one when no name is given; nil when none matches (execution reports why).
        func kind(of operationName: String?) -> OperationType? {
            guard let operationName else { return operations.count == 1 ? operations[0].kind : nil }
            return operations.first { $0.name == operationName }?.kind
        }
    }

    /// A document ready to run, or the errors that stop it.
    enum Prepared {
        case valid(Document, kind: OperationType?, isPublic: Bool)
        case invalid([GraphQLError])
    }

    /// GET asked to run a mutation or a subscription.
    struct ReadOnlyTransport: Error, CustomStringConvertible {
        var kind: OperationType
        var description: String { "a \(kind.rawValue) needs POST (GET runs queries only)" }
    }

    /// Root fields whose answers do not depend on the caller.
    static let publicRootFields: Set<String> = ["deal", "deals", "product", "__typename"]

    init(capacity: Int = 512) { self.capacity = capacity }

    /// The document for `query`, parsed and validated against `schema` once. Throws a parse error.
    func document(_ query: String, schema: GraphQLSchema) throws -> Entry {
        if let entry = lock.withLock({ entries[query] }) { return entry }
        let document = try parse(source: Source(body: query, name: "GraphQL request"))
        let entry = Entry(document: document, shape: Self.shape(of: document), errors: validate(schema: schema, ast: document, rules: specifiedRules))
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[query] = entry
        }
        return entry
    }

    /// The document for a request, checked against what its transport allows and the depth
    /// limit. Throws a parse error, ``ReadOnlyTransport``, or a `ValidationError` naming the depth.
    func prepare(
        _ query: String, operationName: String?, schema: GraphQLSchema, transport: Transport, maxDepth: Int
    ) throws -> Prepared {
        let entry = try document(query, schema: schema), shape = entry.shape
        // The limits first: a document too deep is refused whatever else is wrong with it.
        let kind = shape.kind(of: operationName)
        if transport == .get, let kind, kind != .query { throw ReadOnlyTransport(kind: kind) }
        guard shape.depth <= maxDepth else {
            throw Domain.ValidationError(field: "query", reason: "nests \(shape.depth) levels deep; at most \(maxDepth) are allowed")
        }
        guard entry.errors.isEmpty else { return .invalid(entry.errors) }
        return .valid(entry.document, kind: kind, isPublic: shape.isPublic && kind == .query)
    }

    /// Runs a prepared query or mutation (what `graphql(schema:request:…)` does, minus the repeated
    /// parse and validation).
    static func execute(
        _ prepared: Prepared, api: ShopAPI, context: RequestContext, variables: [String: Map], operationName: String?
    ) async throws -> GraphQLResult {
        switch prepared {
        case .invalid(let errors):
            return GraphQLResult(errors: errors)
        case .valid(let document, _, _):
            return try await GraphQL.execute(
                schema: api.schema.schema, documentAST: document, rootValue: api.resolver, context: context,
                variableValues: variables, operationName: operationName)
        }
    }

    // MARK: The shape

    static func shape(of document: Document) -> Shape {
        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        var fragments: [String: SelectionSet] = [:]
        for case let fragment as FragmentDefinition in document.definitions { fragments[fragment.name.value] = fragment.selectionSet }
        var depth = 0, aliases = 0
        for operation in operations {
            let measured = measure(operation.selectionSet, fragments: fragments, expanding: [])
            depth = max(depth, measured.depth)
            aliases += measured.aliases
        }
        return Shape(
            operations: operations.map { ($0.name?.value, $0.operation) }, depth: depth, aliases: aliases,
            isPublic: operations.count == 1 && operations[0].operation == .query
                && operations[0].selectionSet.selections.allSatisfy { ($0 as? Field).map { publicRootFields.contains($0.name.value) } ?? false })
    }

    /// A selection set's depth (itself one level) and aliases. `expanding`: the fragments being
    /// expanded above, so a cycle (which validation refuses anyway) ends.
    static func measure(_ set: SelectionSet, fragments: [String: SelectionSet], expanding: Set<String>) -> (depth: Int, aliases: Int) {
        var below = 0, aliases = 0
        for selection in set.selections {
            let inner: (depth: Int, aliases: Int)
            switch selection {
            case let field as Field:
                if field.alias != nil { aliases += 1 }
                inner = field.selectionSet.map { measure($0, fragments: fragments, expanding: expanding) } ?? (0, 0)
            case let fragment as InlineFragment:
                // No level of its own: its fields sit at this set's level.
                let measured = measure(fragment.selectionSet, fragments: fragments, expanding: expanding)
                inner = (measured.depth - 1, measured.aliases)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard let body = fragments[name], !expanding.contains(name) else { continue }
                let measured = measure(body, fragments: fragments, expanding: expanding.union([name]))
                inner = (measured.depth - 1, measured.aliases)
            default:
                continue
            }
            below = max(below, inner.depth)
            aliases += inner.aliases
        }
        return (1 + below, aliases)
    }
}
