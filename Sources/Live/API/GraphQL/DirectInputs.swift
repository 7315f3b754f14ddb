import GraphQL
import OrderedCollections

/// An input object read straight from the argument map GraphQL has already coerced to its type.
protocol DirectInput: Sendable {
    /// The input object's name in the schema.
    static var graphQLName: String { get }
    init(_ fields: InputFields) throws
}

/// The fields of one coerced input object. GraphQL checked every field's type and presence before
/// a resolver runs; a mismatch here is a schema bug and is reported naming the field.
struct InputFields {
    let type: String
    let map: OrderedDictionary<String, Map>

    init(_ map: Map, type: String) throws {
        guard case .dictionary(let fields) = map else { throw GraphQLError(message: "\(type): expected an input object, found \(map)") }
        self.type = type
        self.map = fields
    }

    func string(_ name: String) throws -> String {
        guard case .string(let value)? = map[name] else { throw mismatch(name, "String") }
        return value
    }

    func id(_ name: String) throws -> GraphID { GraphID(try string(name)) }

    /// A nullable `String` field: nil when absent or null.
    func optionalString(_ name: String) throws -> String? {
        switch map[name] {
        case nil, .null?, .undefined?: nil
        case .string(let value)?: value
        default: throw mismatch(name, "String")
        }
    }

    func int(_ name: String) throws -> Int {
        guard case .number(let value)? = map[name] else { throw mismatch(name, "Int") }
        return value.intValue
    }

    private func mismatch(_ name: String, _ expected: String) -> GraphQLError {
        GraphQLError(message: "\(type).\(name): expected \(expected), found \(map[name].map { "\($0)" } ?? "nothing")")
    }
}

extension ShopResolver.PlaceOrderInput: DirectInput {
    static let graphQLName = "PlaceOrderInput"
    init(_ fields: InputFields) throws {
        self.init(
            dealId: try fields.id("dealId"), quantity: try fields.int("quantity"), idempotencyKey: try fields.string("idempotencyKey"),
            admissionTicket: try fields.optionalString("admissionTicket"))
    }
}

extension ShopResolver.PayOrderInput: DirectInput {
    static let graphQLName = "PayOrderInput"
    init(_ fields: InputFields) throws {
        self.init(orderId: try fields.id("orderId"), idempotencyKey: try fields.string("idempotencyKey"))
    }
}

extension ShopResolver.CancelOrderInput: DirectInput {
    static let graphQLName = "CancelOrderInput"
    init(_ fields: InputFields) throws {
        self.init(orderId: try fields.id("orderId"))
    }
}

/// A field's arguments read straight from the argument map GraphQL has coerced to their types.
protocol DirectArguments: Sendable {
    init(_ arguments: InputFields) throws
}

extension ShopResolver.IDArguments: DirectArguments {
    init(_ arguments: InputFields) throws {
        self.init(id: try arguments.id("id"))
    }
}

extension ShopResolver.InputArguments: DirectArguments where Input: DirectInput {
    init(_ arguments: InputFields) throws {
        self.init(input: try Input(InputFields(arguments.map["input"] ?? .undefined, type: Input.graphQLName)))
    }
}

extension ShopAPI {
    /// Graphiti decodes each field's arguments with GraphQL's `MapDecoder`, which converts the
    /// argument map to Foundation collections and casts every value back: for `placeOrder` that
    /// was about 6% of the server's CPU per order (perf, orders only at 1k rps), and a status poll's
    /// `order(id:)` paid it too. The fields a flash sale runs thousands of times a second (the
    /// order mutations, and the deal, product and order by id) read their arguments from the map
    /// instead; the schema Graphiti built (types, arguments, validation) stays as it is, and so do
    /// the resolvers they call. Run once, before the schema executes anything.
    static func readArgumentsDirectly(_ schema: GraphQLSchema) throws {
        try rebuilding(schema.queryType) { fields, query in
            try direct(fields, of: query, "deal", ShopResolver.deal)
            try direct(fields, of: query, "product", ShopResolver.product)
            try direct(fields, of: query, "order", ShopResolver.order)
        }
        try rebuilding(schema.mutationType) { fields, mutation in
            try direct(fields, of: mutation, "placeOrder", ShopResolver.placeOrder)
            try direct(fields, of: mutation, "payOrder", ShopResolver.payOrder)
            try direct(fields, of: mutation, "cancelOrder", ShopResolver.cancelOrder)
        }
    }

    /// Lets `change` set resolvers on `object`'s fields or replace them, then rebuilds its field
    /// definitions (the object type caches them, each with a copy of its resolver and type). Run
    /// before the schema executes anything.
    static func rebuilding(_ object: GraphQLObjectType?, _ change: (inout GraphQLFieldMap, GraphQLObjectType) throws -> Void) throws {
        guard let object else { return }
        var fields = try object.fields()
        try change(&fields, object)
        object.fields = { [fields] in fields }
    }

    /// `object.name`'s resolver, given its arguments read by `Arguments`.
    private static func direct<Arguments: DirectArguments, Result: Sendable>(
        _ fields: GraphQLFieldMap, of object: GraphQLObjectType, _ name: String,
        _ resolve: @escaping @Sendable (ShopResolver) -> (RequestContext, Arguments) async throws -> Result?
    ) throws {
        let path = "\(object.name).\(name)"
        guard let field = fields[name] else { throw GraphQLError(message: "\(path) is not in the schema") }
        field.resolve = { source, arguments, context, _ in
            guard let resolver = source as? ShopResolver, let context = context as? RequestContext else {
                throw GraphQLError(message: "\(path): expected a ShopResolver root and a RequestContext")
            }
            return try await resolve(resolver)(context, try Arguments(InputFields(arguments, type: path)))
        }
    }
}
