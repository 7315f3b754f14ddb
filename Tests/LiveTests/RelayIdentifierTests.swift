import Foundation
import GraphQL
import HummingbirdTesting
import LiveAPI
import Testing

/// Identifiers are GraphQL's `ID`, as Relay and Apollo clients declare them.
@Suite struct RelayIdentifierTests {
    static func data(_ answer: [String: Any]) -> [String: Any]? { answer["data"] as? [String: Any] }
    static func errors(_ answer: [String: Any]) -> [String] { (answer["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String } }

    @Test func aClientsIdVariablesAreAnsweredThroughTheWholeJourney() async throws {
        let (app, _) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            let deal = try await GraphQLAPITests.post(client, "query($id: ID!) { deal(id: $id) { id available } }", variables: ["id": "deal-sneakers"])
            #expect(Self.errors(deal).isEmpty, "\(Self.errors(deal))")
            #expect((Self.data(deal)?["deal"] as? [String: Any])?["id"] as? String == "deal-sneakers")
            let placed = try await GraphQLAPITests.post(
                client, "mutation($deal: ID!, $key: String!) { placeOrder(input: {dealId: $deal, quantity: 1, idempotencyKey: $key}) { ... on OrderPlaced { order { id } } } }",
                variables: ["deal": "deal-sneakers", "key": "k-relay"])
            let id = try #require(((Self.data(placed)?["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String, "\(placed)")
            let order = try await GraphQLAPITests.post(client, "query($id: ID!) { order(id: $id) { id status } }", variables: ["id": id])
            #expect((Self.data(order)?["order"] as? [String: Any])?["status"] as? String == "RESERVED", "\(order)")
            let paid = try await GraphQLAPITests.post(
                client, "mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }", variables: ["in": ["orderId": id, "idempotencyKey": "p-relay"]])
            #expect((Self.data(paid)?["payOrder"] as? [String: Any])?["__typename"] as? String == "OrderPaid", "\(paid)")
            let missing = try await GraphQLAPITests.post(
                client, "mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { __typename ... on OrderNotFound { orderId } } }", variables: ["id": "o-none"])
            #expect((Self.data(missing)?["cancelOrder"] as? [String: Any])?["orderId"] as? String == "o-none", "\(missing)")
        }
    }

    @Test func anIntegerIdIsReadAsItsDigitsAndAStringVariableIsATypeError() async throws {
        let (app, _) = try await GraphQLAPITests.app()
        try await app.test(.router) { client in
            // GraphQL's ID takes an integer too: no deal is called 42, so the answer is null, not an error.
            let literal = try await GraphQLAPITests.post(client, "{ deal(id: 42) { id } }")
            #expect(Self.errors(literal).isEmpty && Self.data(literal)?["deal"] is NSNull, "\(literal)")
            let variable = try await GraphQLAPITests.post(client, "query($id: ID!) { deal(id: $id) { id } }", variables: ["id": 42])
            #expect(Self.errors(variable).isEmpty && Self.data(variable)?["deal"] is NSNull, "\(variable)")
            let typed = try await GraphQLAPITests.post(client, "query($id: String!) { deal(id: $id) { id } }", variables: ["id": "deal-sneakers"])
            #expect(Self.errors(typed).contains { $0.contains("\"String!\"") && $0.contains("\"ID!\"") }, "\(typed)")
        }
    }

    /// Every node's `id`, every identifier argument and input field is `ID`; `docs/schema.graphql`
    /// is the schema as the server prints it (written to `.run/schema.graphql` when it differs).
    @Test func theSchemaUsesIdForEveryIdentifierAndMatchesItsDocument() throws {
        let schema = try ShopAPI().schema.schema
        for (type, field) in [("Product", "id"), ("Deal", "id"), ("Order", "id")] {
            let object = try #require(schema.getType(name: type) as? GraphQLObjectType)
            #expect("\(try object.fields()[field]!.type)" == "ID!", "\(type).\(field)")
        }
        for (input, field) in [("PlaceOrderInput", "dealId"), ("PayOrderInput", "orderId"), ("CancelOrderInput", "orderId"), ("CreateProductInput", "id"), ("ScheduleDealInput", "id"), ("ScheduleDealInput", "productId")] {
            let object = try #require(schema.getType(name: input) as? GraphQLInputObjectType)
            #expect("\(try object.fields()[field]!.type)" == "ID!", "\(input).\(field)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let printed = printSchema(schema: schema) + "\n"
        let documented = try String(contentsOf: root.appendingPathComponent("docs/schema.graphql"), encoding: .utf8)
        if documented != printed {
            try? FileManager.default.createDirectory(at: root.appendingPathComponent(".run"), withIntermediateDirectories: true)
            try? printed.write(to: root.appendingPathComponent(".run/schema.graphql"), atomically: true, encoding: .utf8)
        }
        #expect(documented == printed, "docs/schema.graphql is not the served schema: see .run/schema.graphql")
    }
}
