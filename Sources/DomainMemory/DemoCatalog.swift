public import Domain

/// The embedded server's demo catalogue: three products, one live deal and one scheduled.
public enum DemoCatalog {
    /// Creates the products and deals through the shop (so their events are recorded) and starts
    /// the live one. `now` is the shop clock's current instant.
    public static func seed(_ shop: Shop, now: Instant) async throws {
        let products = [
            try Product(id: "sneakers-270", name: "Limited sneakers", description: "Size 270, one colourway, numbered box"),
            try Product(id: "headphones-x", name: "Noise-cancelling headphones", description: "Launch edition"),
            try Product(id: "console-mini", name: "Retro console mini", description: "Thirty built-in games"),
        ]
        for product in products { try await shop.createProduct(product) }
        let live = try DealTerms(
            id: "deal-sneakers", productID: "sneakers-270", price: Money(minorUnits: 99_000), startsAt: now,
            endsAt: now + .seconds(6 * 3600), perUserLimit: 2, reservationTTL: .seconds(600), paymentWindow: .seconds(300),
            initialStock: 100, reservationCap: 3, cancelCoolDown: .seconds(10))
        let later = try DealTerms(
            id: "deal-headphones", productID: "headphones-x", price: Money(minorUnits: 149_000), startsAt: now + .seconds(3600),
            endsAt: now + .seconds(7 * 3600), perUserLimit: 1, reservationTTL: .seconds(600), paymentWindow: .seconds(300),
            initialStock: 50, reservationCap: 3, cancelCoolDown: .seconds(10))
        _ = try await shop.scheduleDeal(live)
        _ = try await shop.scheduleDeal(later)
        _ = try await shop.startDeal(live.id)
    }
}
