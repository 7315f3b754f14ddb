import GraphQL
import OrderedCollections

/// An input object read straight from the argument map GraphQL has already coerced to its type.
protocol DirectInput: Sendable {
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
    init(_ fields: InputFields) throws {
        self.init(
            dealId: try fields.id("dealId"), quantity: try fields.int("quantity"), idempotencyKey: try fields.string("idempotencyKey"),
            admissionTicket: try fields.optionalString("admissionTicket"))
    }
}

extension ShopResolver.PayOrderInput: DirectInput {
    init(_ fields: InputFields) throws {
        self.init(orderId: try fields.id("orderId"), idempotencyKey: try fields.string("idempotencyKey"))
    }
}

extension ShopResolver.CancelOrderInput: DirectInput {
    init(_ fields: InputFields) throws {
        self.init(orderId: try fields.id("orderId"))
    }
}

extension ShopAPI {
    /// Graphiti decodes each field's arguments with GraphQL's `MapDecoder`, which converts the
    /// argument map to Foundation collections and casts every value back: for `placeOrder` that
    /// was about 6% of the server's CPU per order (perf, orders only at 1k rps). The shopper's
    /// order mutations, the ones a flash sale runs thousands of times a second, read their `input`
    /// from the map instead; the schema Graphiti built (types, arguments, validation) stays as
    /// it is, and so do the resolvers they call. Run once, before the schema executes anything.
    static func readInputsDirectly(_ schema: GraphQLSchema) throws {
        guard let mutation = schema.mutationType else { return }
        let fields = try mutation.fields()
        func direct<Input: DirectInput, Result: Sendable>(
            _ name: String, _ resolve: @escaping @Sendable (ShopResolver) -> (RequestContext, ShopResolver.InputArguments<Input>) async throws -> Result
        ) throws {
            guard let field = fields[name], let input = getNamedType(type: field.args["input"]?.type)?.name else {
                throw GraphQLError(message: "Mutation.\(name)(input:) is not in the schema")
            }
            field.resolve = { source, arguments, context, _ in
                guard let resolver = source as? ShopResolver, let context = context as? RequestContext else {
                    throw GraphQLError(message: "Mutation.\(name): expected a ShopResolver root and a RequestContext")
                }
                let value = try Input(InputFields(arguments["input"], type: input))
                return try await resolve(resolver)(context, ShopResolver.InputArguments(input: value))
            }
        }
        try direct("placeOrder", ShopResolver.placeOrder)
        try direct("payOrder", ShopResolver.payOrder)
        try direct("cancelOrder", ShopResolver.cancelOrder)
        // The object type caches its field definitions (each copies its resolver): rebuild them.
        mutation.fields = { fields }
    }
}
