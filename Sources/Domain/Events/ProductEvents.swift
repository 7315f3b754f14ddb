/// A product was added to the catalogue.
public struct ProductCreated: Hashable, Sendable, Codable {
    public var productID: ProductID
    public var name: String
    public var description: String
    public init(productID: ProductID, name: String, description: String) {
        self.productID = productID
        self.name = name
        self.description = description
    }
}
