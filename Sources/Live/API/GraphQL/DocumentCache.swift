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
        /// The variables whose types hold an `Int` anywhere (in an input object or list too), with
        /// their schema types resolved once: only their values are checked for fractions
        /// (``checkIntegers(_:_:operationName:operations:)``).
        var integerVariables: [IntegerVariable]
        var hasIntegerVariables: Bool { !integerVariables.isEmpty }
    }

    /// A variable of one of a document's operations whose type holds an `Int`.
    struct IntegerVariable {
        /// Its operation's name (nil: anonymous).
        var operation: String?
        var name: String
        var type: any GraphQLType
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
        /// Each operation, in document order.
        var operations: [Operation]
        /// The deepest nesting of selection sets, the operation's own counting as one and
        /// fragments expanded (a fragment or an inline fragment adds no level of its own).
        var depth: Int
        /// Fields written with an alias, fragments expanded.
        var aliases: Int
        /// The most expensive operation's estimated cost: each field 1, and what a field with a
        /// `first:` argument selects times that many (a variable or no value: the largest page, 100).
        var cost: Int
        /// Whether an operation asks for the schema (`__schema` or `__type` at its root).
        var introspects: Bool
        /// One query whose root fields read only the catalogue (`deal`, `deals`, `product`): its
        /// answer is the same for every caller, so it may be served from `ShopRouter`'s response
        /// cache.
        var isPublic: Bool

        /// The kind of the operation a request with `operationName` runs: the one of that name, or
        /// the only one when no name is given; nil when none matches (execution reports why).
        func kind(of operationName: String?) -> OperationType? {
            operation(operationName)?.kind
        }

        /// Whether the operation a request with `operationName` runs calls a business mutation.
        func buyerCalls(_ operationName: String?) -> Bool {
            operation(operationName)?.buyerCalls ?? false
        }

        /// The first root field of the operation a request with `operationName` runs.
        func root(of operationName: String?) -> String? {
            operation(operationName)?.root
        }

        /// The order the operation a request with `operationName` pays or cancels, by its id as
        /// the request gives it (nil: it runs no such mutation alone, or names no order).
        func order(of operationName: String?, variables: [String: Map]) -> String? {
            operation(operationName)?.order?.id(in: variables)
        }

        private func operation(_ operationName: String?) -> Operation? {
            guard let operationName else { return operations.count == 1 ? operations[0] : nil }
            return operations.first { $0.name == operationName }
        }
    }

    /// One operation of a document, as its syntax tree shows it.
    struct Operation: Sendable {
        /// Its name (nil when anonymous).
        var name: String?
        var kind: OperationType
        /// Whether it calls a business mutation (one of ``DocumentCache/buyerLimitedFields`` at its root).
        var buyerCalls: Bool
        /// Its first root field (fragments expanded; what `/metrics` labels its duration by).
        var root: String?
        /// Where it names its order, when it is a mutation whose one root field pays or cancels
        /// one (``DocumentCache/orderMutations``): what ``ShopRouter`` reads ahead.
        var order: OrderReference?
    }

    /// Where an operation names the order its money mutation works on: a literal id, or a
    /// variable (the id itself, or the input object whose `field` holds it).
    enum OrderReference: Sendable, Equatable {
        case literal(String)
        case variable(String, field: String?)

        /// The id in a request's variables (nil: absent or not a string; execution reports why).
        func id(in variables: [String: Map]) -> String? {
            switch self {
            case .literal(let id): return id
            case .variable(let name, let field):
                let value = field.map { variables[name]?.dictionary?[$0] } ?? variables[name]
                guard case .string(let id)? = value else { return nil }
                return id
            }
        }

        /// Where `field` (a root field) names its order: its `input` argument's `orderId`,
        /// written out or in a variable.
        static func of(_ field: Field) -> OrderReference? {
            guard let input = field.arguments.first(where: { $0.name.value == "input" })?.value else { return nil }
            if let variable = input as? Variable { return .variable(variable.name.value, field: "orderId") }
            guard let object = input as? ObjectValue, let id = object.fields.first(where: { $0.name.value == "orderId" })?.value else { return nil }
            if let literal = id as? StringValue { return .literal(literal.value) }
            if let variable = id as? Variable { return .variable(variable.name.value, field: nil) }
            return nil
        }
    }

    /// A document ready to run, or the errors that stop it.
    enum Prepared {
        case valid(Document, kind: OperationType?, isPublic: Bool)
        case invalid([GraphQLError])
    }

    /// The limits a document must keep, on every transport (``ShopRouter/Configuration`` holds
    /// their defaults).
    struct Limits: Sendable {
        var maxDepth: Int
        var maxAliases: Int
        var maxCost: Int
        var introspection: Bool
    }

    /// GET asked to run a mutation or a subscription.
    struct ReadOnlyTransport: Error, CustomStringConvertible {
        var kind: OperationType
        var description: String { "a \(kind.rawValue) needs POST (GET runs queries only)" }
    }

    /// Root fields whose answers do not depend on the caller.
    static let publicRootFields: Set<String> = ["deal", "deals", "product", "__typename"]
    /// The mutations each buyer's rate-limit bucket bounds.
    static let buyerLimitedFields: Set<String> = ["placeOrder", "payOrder", "cancelOrder"]
    /// The mutations that start by reading the order they name.
    static let orderMutations: Set<String> = ["payOrder", "cancelOrder"]

    init(capacity: Int = 512) { self.capacity = capacity }

    /// The document for `query`, parsed and validated against `schema` once. Throws a parse error.
    func document(_ query: String, schema: GraphQLSchema) throws -> Entry {
        if let entry = lock.withLock({ entries[query] }) { return entry }
        let document = try parse(source: Source(body: query, name: "GraphQL request"))
        let entry = Entry(
            document: document, shape: Self.shape(of: document), errors: validate(schema: schema, ast: document, rules: specifiedRules),
            integerVariables: Self.integerVariables(document, schema: schema))
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[query] = entry
        }
        return entry
    }

    /// The document for a request, checked against what its transport allows, the limits and
    /// its variables' integers. Throws a parse error, ``ReadOnlyTransport``, or a `ValidationError`
    /// naming the limit or the variable.
    func prepare(
        _ query: String, operationName: String?, variables: [String: Map], schema: GraphQLSchema, transport: Transport, limits: Limits
    ) throws -> Prepared {
        let entry = try document(query, schema: schema), shape = entry.shape
        // The limits first: a document over one is refused whatever else is wrong with it.
        let kind = shape.kind(of: operationName)
        if transport == .get, let kind, kind != .query { throw ReadOnlyTransport(kind: kind) }
        guard shape.depth <= limits.maxDepth else {
            throw Domain.ValidationError(field: "query", reason: "nests \(shape.depth) levels deep; at most \(limits.maxDepth) are allowed")
        }
        guard shape.aliases <= limits.maxAliases else {
            throw Domain.ValidationError(field: "query", reason: "uses \(shape.aliases) aliases; at most \(limits.maxAliases) are allowed")
        }
        guard shape.cost <= limits.maxCost else {
            throw Domain.ValidationError(field: "query", reason: "costs an estimated \(shape.cost) (fields, times the pages they ask for); at most \(limits.maxCost) is allowed")
        }
        guard limits.introspection || !shape.introspects else {
            throw Domain.ValidationError(field: "query", reason: "asks for the schema, and introspection is off on this server")
        }
        guard entry.errors.isEmpty else { return .invalid(entry.errors) }
        if entry.hasIntegerVariables {
            try Self.checkIntegers(variables, entry.integerVariables, operationName: operationName, operations: shape.operations.count)
        }
        return .valid(entry.document, kind: kind, isPublic: shape.isPublic && kind == .query)
    }

    /// Refuses a variable that fills an `Int` with a fraction (GraphQL 4.3's `Int` takes any
    /// number in range and a resolver would read `1.99` as 1), inside input objects and lists too:
    /// of `checked`, the variables of the operation `operationName` names (nil: the document's only
    /// one, of `operations`).
    static func checkIntegers(_ variables: [String: Map], _ checked: [IntegerVariable], operationName: String?, operations: Int) throws {
        guard !variables.isEmpty, operationName != nil || operations == 1 else { return }
        for variable in checked where operationName == nil || variable.operation == operationName {
            guard let value = variables[variable.name] else { continue }
            try checkIntegers(value, variable.type) { "$\(variable.name)" }
        }
    }

    /// `path` names the value in the refusal; it is only spelled out for one.
    static func checkIntegers(_ value: Map, _ type: any GraphQLType, at path: () -> String) throws {
        switch (type, value) {
        case (let nonNull as GraphQLNonNull, _):
            if let inner = nonNull.ofType as? any GraphQLType { try checkIntegers(value, inner, at: path) }
        case (let list as GraphQLList, .array(let items)):
            for (index, item) in items.enumerated() { try checkIntegers(item, list.ofType) { "\(path())[\(index)]" } }
        case (let list as GraphQLList, _):
            try checkIntegers(value, list.ofType, at: path)
        case (let object as GraphQLInputObjectType, .dictionary(let fields)):
            let definitions = try object.fields()
            for (name, field) in fields {
                if let definition = definitions[name] { try checkIntegers(field, definition.type) { "\(path()).\(name)" } }
            }
        case (let scalar as GraphQLScalarType, .number(let number)) where scalar.name == "Int":
            let double = number.doubleValue
            guard double.rounded(.towardZero) == double else {
                throw Domain.ValidationError(field: path(), reason: "must be an integer (Int), found \(double)")
            }
        default:
            return
        }
    }

    /// The variables of `document`'s operations whose types hold an `Int`.
    static func integerVariables(_ document: Document, schema: GraphQLSchema) -> [IntegerVariable] {
        func holdsInt(_ type: any GraphQLType, seen: inout Set<String>) -> Bool {
            switch type {
            case let nonNull as GraphQLNonNull: return (nonNull.ofType as? any GraphQLType).map { holdsInt($0, seen: &seen) } ?? false
            case let list as GraphQLList: return holdsInt(list.ofType, seen: &seen)
            case let object as GraphQLInputObjectType:
                guard seen.insert(object.name).inserted, let fields = try? object.fields() else { return false }
                return fields.values.contains { holdsInt($0.type, seen: &seen) }
            case let scalar as GraphQLScalarType: return scalar.name == "Int"
            default: return false
            }
        }
        var found: [IntegerVariable] = []
        for case let operation as OperationDefinition in document.definitions {
            for variable in operation.variableDefinitions {
                var seen: Set<String> = []
                guard let type = inputType(variable.type, schema: schema), holdsInt(type, seen: &seen) else { continue }
                found.append(IntegerVariable(operation: operation.name?.value, name: variable.variable.name.value, type: type))
            }
        }
        return found
    }

    /// The schema's type for a variable's declared type (nil: unknown, which validation reports).
    static func inputType(_ ast: any GraphQL.`Type`, schema: GraphQLSchema) -> (any GraphQLType)? {
        switch ast {
        case let named as NamedType: return schema.getType(name: named.name.value)
        case let list as ListType: return inputType(list.type, schema: schema).flatMap { try? GraphQLList($0) }
        case let nonNull as NonNullType: return (inputType(nonNull.type, schema: schema) as? any GraphQLNullableType).flatMap { try? GraphQLNonNull($0) }
        default: return nil
        }
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
        var depth = 0, aliases = 0, cost = 0, introspects = false
        var shaped: [Operation] = []
        for operation in operations {
            let measured = measure(operation.selectionSet, fragments: fragments, expanding: [])
            depth = max(depth, measured.depth)
            aliases += measured.aliases
            cost = max(cost, measured.cost)
            let roots = rootFields(operation.selectionSet, fragments: fragments, expanding: [])
            introspects = introspects || roots.contains { ["__schema", "__type"].contains($0) }
            let buyerCalls = operation.operation == .mutation && roots.contains { buyerLimitedFields.contains($0) }
            // The order only for one money mutation written at the root (no alias, no fragment).
            let selections = operation.selectionSet.selections
            let single = operation.operation == .mutation && selections.count == 1 ? selections.first as? Field : nil
            let order = single.flatMap { orderMutations.contains($0.name.value) && $0.alias == nil ? OrderReference.of($0) : nil }
            shaped.append(Operation(name: operation.name?.value, kind: operation.operation, buyerCalls: buyerCalls, root: roots.first, order: order))
        }
        return Shape(
            operations: shaped, depth: depth, aliases: aliases, cost: cost, introspects: introspects,
            isPublic: operations.count == 1 && operations[0].operation == .query
                && operations[0].selectionSet.selections.allSatisfy { ($0 as? Field).map { publicRootFields.contains($0.name.value) } ?? false })
    }

    /// The page a `first:` without a literal may ask for (``ShopResolver/maxPage``).
    static let largestPage = 100

    /// A selection set's depth (itself one level), aliases and cost. `expanding`: the fragments
    /// being expanded above, so a cycle (which validation refuses anyway) ends.
    static func measure(_ set: SelectionSet, fragments: [String: SelectionSet], expanding: Set<String>) -> (depth: Int, aliases: Int, cost: Int) {
        var below = 0, aliases = 0, cost = 0
        for selection in set.selections {
            let inner: (depth: Int, aliases: Int, cost: Int)
            switch selection {
            case let field as Field:
                if field.alias != nil { aliases += 1 }
                let measured = field.selectionSet.map { measure($0, fragments: fragments, expanding: expanding) } ?? (depth: 0, aliases: 0, cost: 0)
                inner = (measured.depth, measured.aliases, 1 + pageSize(field) * measured.cost)
            case let fragment as InlineFragment:
                // No level of its own: its fields sit at this set's level.
                let measured = measure(fragment.selectionSet, fragments: fragments, expanding: expanding)
                inner = (measured.depth - 1, measured.aliases, measured.cost)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard let body = fragments[name], !expanding.contains(name) else { continue }
                let measured = measure(body, fragments: fragments, expanding: expanding.union([name]))
                inner = (measured.depth - 1, measured.aliases, measured.cost)
            default:
                continue
            }
            below = max(below, inner.depth)
            aliases += inner.aliases
            cost = cost.addingReportingOverflow(inner.cost).overflow ? Int.max / 2 : cost + inner.cost
        }
        return (1 + below, aliases, min(cost, Int.max / 2))
    }

    /// How many items a field's `first:` asks for: its literal (capped at the largest page), the
    /// largest page for a variable; 1 for a field without one.
    static func pageSize(_ field: Field) -> Int {
        guard let first = field.arguments.first(where: { $0.name.value == "first" }) else { return 1 }
        if let literal = first.value as? IntValue, let size = Int(literal.value) { return min(max(size, 0), largestPage) }
        return largestPage
    }

    /// The names of the fields an operation selects at its root, fragments expanded.
    static func rootFields(_ set: SelectionSet, fragments: [String: SelectionSet], expanding: Set<String>) -> [String] {
        set.selections.flatMap { selection -> [String] in
            switch selection {
            case let field as Field: [field.name.value]
            case let fragment as InlineFragment: rootFields(fragment.selectionSet, fragments: fragments, expanding: expanding)
            case let spread as FragmentSpread:
                fragments[spread.name.value].map { expanding.contains(spread.name.value) ? [] : rootFields($0, fragments: fragments, expanding: expanding.union([spread.name.value])) } ?? []
            default: []
            }
        }
    }
}
