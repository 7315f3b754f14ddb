public import Domain
public import Graphiti
import GraphQL

/// The Flash Deal GraphQL schema (see `docs/api.md`).
// @unchecked: the schema is built once and only read afterwards; executing it is reentrant.
public struct ShopAPI: API, @unchecked Sendable {
    public let resolver = ShopResolver()
    public let schema: Schema<ShopResolver, RequestContext>

    public init() throws {
        schema = try Schema<ShopResolver, RequestContext> {
            // GraphQL's own `ID`, as every GraphQL server and client knows it.
            Scalar(
                GraphID.self, as: "ID",
                serialize: { value, _ in try GraphQLID.serialize(value: (value as? GraphID)?.rawValue ?? value) },
                parseValue: { map, _ in try GraphQLID.parseValue(value: map) },
                parseLiteral: { literal, _ in try GraphQLID.parseLiteral(valueAST: literal) })
            Enum(DealStatusValue.self, as: "DealStatus") {
                Value(.SCHEDULED)
                Value(.LIVE)
                Value(.SOLD_OUT)
                Value(.ENDED)
            }
            Enum(OrderStatusValue.self, as: "OrderStatus") {
                Value(.RESERVED)
                Value(.PAID)
                Value(.CANCELLED)
                Value(.EXPIRED)
                Value(.REFUNDED)
            }

            Type(ProductNode.self, as: "Product") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("description", at: \.description)
            }
            Type(DealNode.self, as: "Deal") {
                Field("id", at: \.id)
                Field("status", at: \.status)
                Field("product", at: DealNode.product)
                Field("price", at: \.price)
                Field("currency", at: \.currency)
                Field("startsAt", at: \.startsAt)
                Field("endsAt", at: \.endsAt)
                Field("perUserLimit", at: \.perUserLimit)
                Field("reservationCap", at: \.reservationCap)
                    .description("Unpaid reservations (open, cancelled or expired) a buyer may open on this deal over the sale; 0: no cap.")
                Field("cancelCoolDownSeconds", at: \.cancelCoolDownSeconds)
                    .description("How long after cancelling a reservation a buyer may not reserve this deal again.")
                Field("waitingRoom", at: \.waitingRoom)
                    .description("The deal's waiting room, when it has one: then placeOrder needs an admission ticket from it.")
                Field("available", at: \.available)
                Field("reserved", at: \.reserved)
                Field("sold", at: \.sold)
            }
            Type(OrderNode.self, as: "Order") {
                Field("id", at: \.id)
                Field("deal", at: OrderNode.deal)
                Field("quantity", at: \.quantity)
                Field("status", at: \.status)
                Field("createdAt", at: \.createdAt)
                Field("expiresAt", at: \.expiresAt)
                Field("paymentDeadline", at: \.paymentDeadline)
            }
            ConnectionType(DealNode.self, as: "Deal")
            ConnectionType(OrderNode.self, as: "Order")

            Type(OrderPlaced.self) { Field("order", at: \.order) }
            Type(SoldOut.self) {
                Field("dealId", at: \.dealId)
                Field("available", at: \.available)
            }
            Type(PurchaseLimitExceeded.self) {
                Field("dealId", at: \.dealId)
                Field("limit", at: \.limit)
                Field("remaining", at: \.remaining)
            }
            Type(CancelCoolDown.self) {
                Field("dealId", at: \.dealId)
                Field("retryAfterMs", at: \.retryAfterMs)
            }
            Type(ReservationCapReached.self) {
                Field("dealId", at: \.dealId)
                Field("cap", at: \.cap)
            }
            Type(AdmissionRequired.self) {
                Field("dealId", at: \.dealId)
                Field("reason", at: \.reason)
            }
            Type(NoWaitingRoom.self) { Field("dealId", at: \.dealId) }
            Type(WaitingRoomPolicyNode.self, as: "WaitingRoomPolicy") {
                Field("admissionRate", at: \.admissionRate).description("Buyers let through each second from the deal's start.")
                Field("ticketTtlSeconds", at: \.ticketTtlSeconds).description("How long an admission ticket stays valid; each is good for one order.")
            }
            Type(WaitingRoomNode.self, as: "WaitingRoomStanding") {
                Field("dealId", at: \.dealId)
                Field("position", at: \.position).description("Buyers ahead plus one while waiting (1: next); 0 once through.")
                Field("queueLength", at: \.queueLength)
                Field("drawn", at: \.drawn).description("Whether the deal has started: before, the early crowd's order is still being drawn at random.")
                Field("admitted", at: \.admitted)
                Field("admittedAt", at: \.admittedAt).description("When the buyer is (or was) let through, at the admission rate.")
                Field("admissionTicket", at: WaitingRoomNode.admissionTicket)
                    .description("Once through: a fresh signed ticket, good for one placeOrder on this deal until it expires.")
            }
            Type(DealNotActive.self) {
                Field("dealId", at: \.dealId)
                Field("status", at: \.status)
            }
            Type(DealNotFound.self) { Field("dealId", at: \.dealId) }
            Type(InvalidInput.self) {
                Field("field", at: \.field)
                Field("message", at: \.message)
            }
            Type(OrderPaid.self) { Field("order", at: \.order) }
            Type(ReservationExpired.self) {
                Field("order", at: \.order)
                Field("refunded", at: \.refunded)
            }
            Type(PaymentDeclined.self) {
                Field("order", at: \.order)
                Field("reason", at: \.reason)
            }
            Type(PaymentWindowClosed.self) { Field("order", at: \.order) }
            Type(OrderNotPayable.self) {
                Field("order", at: \.order)
                Field("refunded", at: \.refunded)
            }
            Type(OrderNotFound.self) { Field("orderId", at: \.orderId) }
            Type(IdempotencyKeyReused.self) { Field("orderId", at: \.orderId) }
            Type(OrderCancelled.self) { Field("order", at: \.order) }
            Type(OrderRefunded.self) { Field("order", at: \.order) }
            Type(OrderNotCancellable.self) { Field("order", at: \.order) }
            Type(DealUpdated.self) { Field("deal", at: \.deal) }
            Type(RateLimited.self) { Field("retryAfterMs", at: \.retryAfterMs) }
            Type(ProductCreated.self) { Field("product", at: \.product) }

            Union((any PlaceOrderResult).self, as: "PlaceOrderResult", members: OrderPlaced.self, SoldOut.self, PurchaseLimitExceeded.self, CancelCoolDown.self, ReservationCapReached.self, AdmissionRequired.self, DealNotActive.self, DealNotFound.self, InvalidInput.self, RateLimited.self)
            Union((any PayOrderResult).self, as: "PayOrderResult", members: OrderPaid.self, ReservationExpired.self, PaymentDeclined.self, PaymentWindowClosed.self, OrderNotPayable.self, OrderNotFound.self, IdempotencyKeyReused.self, RateLimited.self)
            Union((any CancelOrderResult).self, as: "CancelOrderResult", members: OrderCancelled.self, OrderRefunded.self, OrderNotCancellable.self, OrderNotFound.self, RateLimited.self)
            Union((any JoinWaitingRoomResult).self, as: "JoinWaitingRoomResult", members: WaitingRoomNode.self, NoWaitingRoom.self, DealNotFound.self)
            Union((any DealCommandResult).self, as: "DealCommandResult", members: DealUpdated.self, DealNotFound.self, InvalidInput.self)
            Union((any ProductCommandResult).self, as: "ProductCommandResult", members: ProductCreated.self, InvalidInput.self)

            Input(ShopResolver.PlaceOrderInput.self, as: ShopResolver.PlaceOrderInput.graphQLName) {
                InputField("dealId", at: \.dealId)
                InputField("quantity", at: \.quantity)
                InputField("idempotencyKey", at: \.idempotencyKey)
                InputField("admissionTicket", at: \.admissionTicket)
                    .description("For a deal with a waiting room: a ticket from the caller's standing once through.")
            }
            Input(ShopResolver.PayOrderInput.self, as: ShopResolver.PayOrderInput.graphQLName) {
                InputField("orderId", at: \.orderId)
                InputField("idempotencyKey", at: \.idempotencyKey)
            }
            Input(ShopResolver.CreateProductInput.self, as: "CreateProductInput") {
                InputField("id", at: \.id)
                InputField("name", at: \.name)
                InputField("description", at: \.description)
            }
            Input(ShopResolver.ScheduleDealInput.self, as: "ScheduleDealInput") {
                InputField("id", at: \.id)
                InputField("productId", at: \.productId)
                InputField("price", at: \.price)
                InputField("startsAt", at: \.startsAt)
                InputField("endsAt", at: \.endsAt)
                InputField("perUserLimit", at: \.perUserLimit)
                InputField("stock", at: \.stock)
                InputField("reservationTtlSeconds", at: \.reservationTtlSeconds)
                InputField("paymentWindowSeconds", at: \.paymentWindowSeconds)
                InputField("reservationCap", at: \.reservationCap).defaultValue(ShopResolver.ScheduleDealInput.defaultReservationCap)
                InputField("cancelCoolDownSeconds", at: \.cancelCoolDownSeconds).defaultValue(ShopResolver.ScheduleDealInput.defaultCancelCoolDownSeconds)
                InputField("waitingRoomAdmissionRate", at: \.waitingRoomAdmissionRate)
                    .description("Buyers let through each second from the start, for a deal with a waiting room; unset: none.")
                InputField("waitingRoomTicketTtlSeconds", at: \.waitingRoomTicketTtlSeconds).defaultValue(ShopResolver.ScheduleDealInput.defaultTicketTtlSeconds)
            }
            Input(ShopResolver.CancelOrderInput.self, as: ShopResolver.CancelOrderInput.graphQLName) {
                InputField("orderId", at: \.orderId)
            }

            Query {
                Field("deals", at: ShopResolver.deals) {
                    Argument("status", at: \.status)
                    Argument("first", at: \.first)
                    Argument("after", at: \.after)
                }
                Field("deal", at: ShopResolver.deal) { Argument("id", at: \.id) }
                Field("product", at: ShopResolver.product) { Argument("id", at: \.id) }
                Field("order", at: ShopResolver.order) { Argument("id", at: \.id) }
                Field("waitingRoom", at: ShopResolver.waitingRoom) { Argument("dealId", at: \.dealId) }
                    .description("Where the caller stands in the deal's waiting room; null when not in it.")
                Field("myOrders", at: ShopResolver.myOrders) {
                    Argument("first", at: \.first)
                    Argument("after", at: \.after)
                }
            }
            Subscription {
                SubscriptionField("dealUpdates", as: DealNode.self, atSub: ShopResolver.dealUpdates) { Argument("dealId", at: \.dealId) }
                SubscriptionField("orderUpdates", as: OrderNode.self, atSub: ShopResolver.orderUpdates) { Argument("orderId", at: \.orderId) }
                SubscriptionField("waitingRoomUpdates", as: WaitingRoomNode.self, atSub: ShopResolver.waitingRoomUpdates) { Argument("dealId", at: \.dealId) }
            }
            Mutation {
                Field("placeOrder", at: ShopResolver.placeOrder) { Argument("input", at: \.input) }
                Field("payOrder", at: ShopResolver.payOrder) { Argument("input", at: \.input) }
                Field("cancelOrder", at: ShopResolver.cancelOrder) { Argument("input", at: \.input) }
                Field("joinWaitingRoom", at: ShopResolver.joinWaitingRoom) { Argument("dealId", at: \.dealId) }
                Field("createProduct", at: ShopResolver.createProduct) { Argument("input", at: \.input) }
                Field("scheduleDeal", at: ShopResolver.scheduleDeal) { Argument("input", at: \.input) }
                Field("startDeal", at: ShopResolver.startDeal) { Argument("id", at: \.id) }
                Field("endDeal", at: ShopResolver.endDeal) { Argument("id", at: \.id) }
                Field("restock", at: ShopResolver.restock) {
                    Argument("id", at: \.id)
                    Argument("quantity", at: \.quantity)
                }
            }
        }
        try Self.freezeInputTypes(schema.schema)
        try Self.readArgumentsDirectly(schema.schema)
        try Self.resolveUnionsByType(schema.schema.mutationType)
    }

    /// GraphQL 4.3 builds an input object's fields from Graphiti's closure each time it coerces a
    /// variable (object types cache theirs); the schema never changes after it is built, so each
    /// input type gets its fields built once, here.
    static func freezeInputTypes(_ schema: GraphQLSchema) throws {
        for type in schema.typeMap.values {
            guard let input = type as? GraphQLInputObjectType else { continue }
            let fields = try input.fields()
            input.fields = { fields }
        }
    }
}
