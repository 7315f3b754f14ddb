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
