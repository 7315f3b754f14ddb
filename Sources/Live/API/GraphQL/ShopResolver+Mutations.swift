import Domain
import Foundation
import Graphiti

extension ShopResolver {
    struct PlaceOrderInput: Codable, Sendable {
        let dealId: GraphID
        let quantity: Int
        let idempotencyKey: String
        /// The waiting room's ticket, for a deal with one.
        let admissionTicket: String?
    }

    struct PayOrderInput: Codable, Sendable {
        let orderId: GraphID
        let idempotencyKey: String
    }

    struct CancelOrderInput: Codable, Sendable { let orderId: GraphID }

    struct InputArguments<Input: Codable & Sendable>: Codable, Sendable { let input: Input }

    struct CreateProductInput: Codable, Sendable {
        let id: GraphID
        let name: String
        let description: String
    }

    struct ScheduleDealInput: Codable, Sendable {
        let id: GraphID
        let productId: GraphID
        let price: Int
        let startsAt: String
        let endsAt: String
        let perUserLimit: Int
        let stock: Int
        let reservationTtlSeconds: Int
        let paymentWindowSeconds: Int
        // Nullable with defaults: GraphQL 4.3 applies an input field's default to a literal
        // argument but not to a variable's object, so an absent field arrives as nil there.
        let reservationCap: Int?
        let cancelCoolDownSeconds: Int?
        /// Buyers let through each second, for a deal with a waiting room (nil: none).
        let waitingRoomAdmissionRate: Double?
        let waitingRoomTicketTtlSeconds: Int?

        /// A deal scheduled through the API has these unless told otherwise: three unpaid
        /// reservations per buyer over the sale, and ten seconds after a cancellation.
        static let defaultReservationCap = 3
        static let defaultCancelCoolDownSeconds = 10
        static let defaultTicketTtlSeconds = 60
    }

    struct RestockArguments: Codable, Sendable {
        let id: GraphID
        let quantity: Int
    }

    func placeOrder(context: RequestContext, arguments: InputArguments<PlaceOrderInput>) async throws -> any PlaceOrderResult {
        let result = try await placeOrder(context, arguments.input)
        context.decided("placeOrder", result, deal: arguments.input.dealId.description, order: (result as? OrderPlaced)?.order.id.description)
        return result
    }

    func payOrder(context: RequestContext, arguments: InputArguments<PayOrderInput>) async throws -> any PayOrderResult {
        let result = try await payOrder(context, arguments.input)
        context.decided("payOrder", result, order: arguments.input.orderId.description)
        return result
    }

    func cancelOrder(context: RequestContext, arguments: InputArguments<CancelOrderInput>) async throws -> any CancelOrderResult {
        let result = try await cancelOrder(context, arguments.input)
        context.decided("cancelOrder", result, order: arguments.input.orderId.description)
        return result
    }

    private func placeOrder(_ context: RequestContext, _ input: PlaceOrderInput) async throws -> any PlaceOrderResult {
        if let take = context.buyerToken, let wait = await take() { return RateLimited(wait) }
        let command: PlaceOrderCommand
        do {
            command = PlaceOrderCommand(
                dealID: try DealID(validating: input.dealId.rawValue), userID: try Self.caller(context), quantity: input.quantity,
                idempotencyKey: try IdempotencyKey(validating: input.idempotencyKey))
        } catch let error as ValidationError {
            return InvalidInput(field: error.field, message: error.reason)
        }
        if let refusal = context.orderRefusal?() { throw OrdersPaused(message: refusal) }
        if let terms = try await context.deals.load(command.dealID),
            let refusal = try await Self.admissionRefusal(context, terms, ticket: input.admissionTicket, user: command.userID, key: command.idempotencyKey)
        {
            return AdmissionRequired(dealId: input.dealId, reason: refusal)
        }
        switch try await context.shop.placeOrder(command) {
        case .placed(let order): return OrderPlaced(order: OrderNode(order))
        case .soldOut(let available): return SoldOut(dealId: input.dealId, available: available)
        case .limitExceeded(let limit, let remaining): return PurchaseLimitExceeded(dealId: input.dealId, limit: limit, remaining: remaining)
        case .coolingDown(let wait): return CancelCoolDown(dealId: input.dealId, wait)
        case .reservationCapReached(let cap): return ReservationCapReached(dealId: input.dealId, cap: cap)
        case .dealNotActive(.soldOut): return SoldOut(dealId: input.dealId, available: 0)
        case .dealNotActive(let status): return DealNotActive(dealId: input.dealId, status: DealStatusValue(status))
        case .dealNotFound: return DealNotFound(dealId: input.dealId)
        case .invalidInput(let error): return InvalidInput(field: error.field, message: error.reason)
        }
    }

    private func payOrder(_ context: RequestContext, _ input: PayOrderInput) async throws -> any PayOrderResult {
        if let take = context.buyerToken, let wait = await take() { return RateLimited(wait) }
        let command = PayOrderCommand(
            orderID: try OrderID(validating: input.orderId.rawValue, field: "orderId"), userID: try Self.caller(context),
            idempotencyKey: try IdempotencyKey(validating: input.idempotencyKey))
        switch try await context.shop.payOrder(command) {
        case .paid(let order): return OrderPaid(order: OrderNode(order))
        case .reservationExpired(let order, let refunded): return ReservationExpired(order: OrderNode(order), refunded: refunded)
        case .paymentDeclined(let order, let reason): return PaymentDeclined(order: OrderNode(order), reason: reason)
        case .paymentWindowClosed(let order): return PaymentWindowClosed(order: OrderNode(order))
        case .notPayable(let order, let refunded): return OrderNotPayable(order: OrderNode(order), refunded: refunded)
        case .orderNotFound(let id): return OrderNotFound(orderId: GraphID(id.rawValue))
        case .idempotencyKeyReused(let id): return IdempotencyKeyReused(orderId: GraphID(id.rawValue))
        }
    }

    private func cancelOrder(_ context: RequestContext, _ input: CancelOrderInput) async throws -> any CancelOrderResult {
        if let take = context.buyerToken, let wait = await take() { return RateLimited(wait) }
        let command = CancelOrderCommand(orderID: try OrderID(validating: input.orderId.rawValue, field: "orderId"), userID: try Self.caller(context))
        switch try await context.shop.cancelOrder(command) {
        case .cancelled(let order): return OrderCancelled(order: OrderNode(order))
        case .refunded(let order): return OrderRefunded(order: OrderNode(order))
        case .notCancellable(let order): return OrderNotCancellable(order: OrderNode(order))
        case .orderNotFound(let id): return OrderNotFound(orderId: GraphID(id.rawValue))
        }
    }

    func createProduct(context: RequestContext, arguments: InputArguments<CreateProductInput>) async throws -> any ProductCommandResult {
        try Self.requireAdmin(context)
        let input = arguments.input
        do {
            let product = try Product(id: try ProductID(validating: input.id.rawValue, field: "id"), name: input.name, description: input.description)
            try await context.shop.createProduct(product)
            return ProductCreated(product: ProductNode(product))
        } catch let error as ValidationError {
            return InvalidInput(field: error.field, message: error.reason)
        }
    }

    func scheduleDeal(context: RequestContext, arguments: InputArguments<ScheduleDealInput>) async throws -> any DealCommandResult {
        try Self.requireAdmin(context)
        let input = arguments.input
        let terms: DealTerms
        do {
            let waitingRoom = try input.waitingRoomAdmissionRate.map { rate throws(ValidationError) in
                try WaitingRoomPolicy(admissionRate: rate, ticketTTL: .seconds(input.waitingRoomTicketTtlSeconds ?? ScheduleDealInput.defaultTicketTtlSeconds))
            }
            terms = try DealTerms(
                id: try DealID(validating: input.id.rawValue, field: "id"), productID: try ProductID(validating: input.productId.rawValue, field: "productId"),
                price: Money(minorUnits: Int64(input.price)), startsAt: try Self.instant(input.startsAt, field: "startsAt"),
                endsAt: try Self.instant(input.endsAt, field: "endsAt"), perUserLimit: input.perUserLimit,
                reservationTTL: .seconds(input.reservationTtlSeconds), paymentWindow: .seconds(input.paymentWindowSeconds),
                initialStock: input.stock, reservationCap: input.reservationCap ?? ScheduleDealInput.defaultReservationCap,
                cancelCoolDown: .seconds(input.cancelCoolDownSeconds ?? ScheduleDealInput.defaultCancelCoolDownSeconds),
                waitingRoom: waitingRoom)
        } catch {
            return InvalidInput(field: error.field, message: error.reason)
        }
        return try await dealCommand(context, input.id) { _ in try await context.shop.scheduleDeal(terms) }
    }

    static func instant(_ text: String, field: String) throws(ValidationError) -> Instant {
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw ValidationError(field: field, reason: "must be an ISO 8601 instant such as 2026-11-28T12:00:00Z")
        }
        return Instant(nanosecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1e9).rounded()))
    }

    func startDeal(context: RequestContext, arguments: IDArguments) async throws -> any DealCommandResult {
        try await dealCommand(context, arguments.id) { try await context.shop.startDeal($0) }
    }

    func endDeal(context: RequestContext, arguments: IDArguments) async throws -> any DealCommandResult {
        try await dealCommand(context, arguments.id) { try await context.shop.endDeal($0) }
    }

    func restock(context: RequestContext, arguments: RestockArguments) async throws -> any DealCommandResult {
        try await dealCommand(context, arguments.id) { try await context.shop.restock($0, quantity: arguments.quantity) }
    }

    func dealCommand(
        _ context: RequestContext, _ id: GraphID, _ run: (DealID) async throws -> DealCommandOutcome
    ) async throws -> any DealCommandResult {
        try Self.requireAdmin(context)
        let dealID: DealID
        do { dealID = try DealID(validating: id.rawValue, field: "id") } catch { return InvalidInput(field: error.field, message: error.reason) }
        switch try await run(dealID) {
        case .done:
            // Gone between the command and the read (ended and purged by another admin): not found.
            guard let deal = try await context.deal(dealID) else { return DealNotFound(dealId: id) }
            return DealUpdated(deal: deal)
        case .dealNotFound: return DealNotFound(dealId: id)
        case .invalidInput(let error): return InvalidInput(field: error.field, message: error.reason)
        }
    }

    /// Admin mutations are a fault, not an outcome, for anyone else (the `errors` array).
    static func requireAdmin(_ context: RequestContext) throws {
        guard context.caller?.isAdmin == true else {
            throw ValidationError(field: Identity.authorization, reason: "admin mutations need a token with the admin role")
        }
    }
}

/// A new order refused while the outbox is at its cap (``OutboxBackpressure``): nothing was
/// reserved, and the same request may be sent again shortly.
struct OrdersPaused: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
