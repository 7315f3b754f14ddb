import GraphQL
@testable import LiveAPI
import Testing

/// The order mutations' inputs read straight from GraphQL's coerced argument map: the same values
/// Graphiti's `MapDecoder` gives for the same map, and a mismatch names the input and its field.
@Suite struct DirectInputsTests {
    static func arguments(_ fields: Map) -> Map { ["input": fields] }

    @Test func placeOrderInputMatchesMapDecoder() throws {
        let map = Self.arguments(["dealId": .string("deal-1"), "quantity": .number(Number(2)), "idempotencyKey": .string("k-9")])
        let direct = try ShopResolver.PlaceOrderInput(InputFields(map["input"], type: "PlaceOrderInput"))
        let decoded = try MapDecoder().decode(ShopResolver.InputArguments<ShopResolver.PlaceOrderInput>.self, from: map).input
        #expect(direct.dealId == decoded.dealId && direct.quantity == decoded.quantity && direct.idempotencyKey == decoded.idempotencyKey)
        #expect((direct.dealId.rawValue, direct.quantity, direct.idempotencyKey) == ("deal-1", 2, "k-9"))
    }

    @Test func payAndCancelInputsMatchMapDecoder() throws {
        let pay = Self.arguments(["orderId": .string("o-1"), "idempotencyKey": .string("p-1")])
        let direct = try ShopResolver.PayOrderInput(InputFields(pay["input"], type: "PayOrderInput"))
        let decoded = try MapDecoder().decode(ShopResolver.InputArguments<ShopResolver.PayOrderInput>.self, from: pay).input
        #expect((direct.orderId, direct.idempotencyKey) == (decoded.orderId, decoded.idempotencyKey))
        let cancel = Self.arguments(["orderId": .string("o-2")])
        #expect(try ShopResolver.CancelOrderInput(InputFields(cancel["input"], type: "CancelOrderInput")).orderId.rawValue == "o-2")
    }

    @Test func aMismatchNamesTheInputAndField() throws {
        let wrongType = Self.arguments(["dealId": .string("deal-1"), "quantity": .string("two"), "idempotencyKey": .string("k")])
        #expect {
            _ = try ShopResolver.PlaceOrderInput(InputFields(wrongType["input"], type: "PlaceOrderInput"))
        } throws: { "\($0)".contains("PlaceOrderInput.quantity: expected Int") }
        let missing = Self.arguments(["orderId": .string("o-1")])
        #expect {
            _ = try ShopResolver.PayOrderInput(InputFields(missing["input"], type: "PayOrderInput"))
        } throws: { "\($0)".contains("PayOrderInput.idempotencyKey: expected String, found nothing") }
        #expect { _ = try InputFields(.string("x"), type: "CancelOrderInput") } throws: { "\($0)".contains("expected an input object") }
    }
}

/// The query fields by id read their `id` the same way, through the protocol every direct field
/// uses, and so do the mutations' `input` arguments.
@Suite struct DirectArgumentsTests {
    @Test func idAndInputArgumentsMatchMapDecoder() throws {
        let byID: Map = ["id": .string("order-7")]
        let direct = try ShopResolver.IDArguments(InputFields(byID, type: "Query.order"))
        #expect(direct.id == (try MapDecoder().decode(ShopResolver.IDArguments.self, from: byID)).id)
        #expect(direct.id.rawValue == "order-7")
        let pay: Map = ["input": ["orderId": .string("o-1"), "idempotencyKey": .string("p-1")]]
        let input = try ShopResolver.InputArguments<ShopResolver.PayOrderInput>(InputFields(pay, type: "Mutation.payOrder")).input
        #expect((input.orderId.rawValue, input.idempotencyKey) == ("o-1", "p-1"))
    }

    @Test func aMismatchNamesTheFieldOrInput() throws {
        #expect {
            _ = try ShopResolver.IDArguments(InputFields(["id": .number(Number(7))], type: "Query.order"))
        } throws: { "\($0)".contains("Query.order.id: expected String") }
        #expect {
            _ = try ShopResolver.InputArguments<ShopResolver.CancelOrderInput>(InputFields([:], type: "Mutation.cancelOrder"))
        } throws: { "\($0)".contains("CancelOrderInput: expected an input object") }
    }

    /// The schema's fields by id and its order mutations run these readers (the schema fails to
    /// build when one of them is missing), and each mutation's result union is resolved by type.
    @Test func theSchemaReadsTheHotFieldsDirectlyAndResolvesTheirUnionsByType() throws {
        let schema = try ShopAPI().schema.schema
        let mutation = try #require(schema.mutationType)
        for name in ["placeOrder", "payOrder", "cancelOrder"] {
            let type = try #require(try mutation.fields()[name]?.type as? GraphQLNonNull)
            let union = try #require(type.ofType as? GraphQLUnionType)
            #expect(union.resolveType != nil, "\(name)")
            // The same union as the one the schema lists: name and members.
            let listed = try #require(schema.getType(name: union.name) as? GraphQLUnionType)
            #expect(try union.types().map(\.name) == listed.types().map(\.name))
        }
    }
}

/// A union's member found by the value's type: the member whose `isTypeOf` takes it, remembered
/// by type; a value of no member's type is an error naming the union and its members. Run
/// through GraphQL's own execution, on a schema whose field has the union `resolveUnionsByType`
/// gives it.
@Suite struct UnionMembersTests {
    struct Hit: Sendable {}
    struct Miss: Sendable {}
    struct Other: Sendable {}

    static func member(_ name: String, _ type: Any.Type) throws -> GraphQLObjectType {
        try GraphQLObjectType(
            name: name, fields: ["name": GraphQLField(type: GraphQLString, resolve: { _, _, _, _ in name })],
            isTypeOf: { value, _ in Swift.type(of: value) == type })
    }

    @Test func findsTheMemberByTypeAndNamesTheUnionOtherwise() async throws {
        let union = try GraphQLUnionType(name: "Result", types: [Self.member("HitType", Hit.self), Self.member("MissType", Miss.self)])
        let query = try GraphQLObjectType(name: "Query", fields: [
            "result": GraphQLField(type: GraphQLNonNull(union), args: ["kind": GraphQLArgument(type: GraphQLString)]) { _, arguments, _, _ in
                switch arguments["kind"].string {
                case "hit": Hit()
                case "miss": Miss()
                default: Other()
                }
            },
        ])
        // As `ShopAPI` does: the schema is built, then its field gets the union resolved by type.
        let schema = try GraphQLSchema(query: query)
        try ShopAPI.resolveUnionsByType(query)
        let resolved = try #require((try query.fields()["result"]?.type as? GraphQLNonNull)?.ofType as? GraphQLUnionType)
        #expect(resolved !== union && resolved.name == "Result" && resolved.resolveType != nil)
        #expect(try resolved.types().map(\.name) == ["HitType", "MissType"])
        #expect(validateSchema(schema: schema).isEmpty)
        for kind in ["miss", "hit", "miss", "hit"] {  // the second of each: remembered by type
            let answer = try await graphql(schema: schema, request: "{ result(kind: \"\(kind)\") { __typename ... on HitType { name } ... on MissType { name } } }")
            let expected = kind == "hit" ? "HitType" : "MissType"
            #expect(answer.errors.isEmpty && answer.data == ["result": ["__typename": .string(expected), "name": .string(expected)]], "\(answer)")
        }
        let other = try await graphql(schema: schema, request: "{ result(kind: \"other\") { __typename } }")
        #expect(other.errors.map(\.message) == ["Result: Other is none of its members (HitType, MissType)"], "\(other)")
    }
}
