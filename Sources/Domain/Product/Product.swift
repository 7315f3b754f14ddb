/// Something for sale. A product has no lifecycle of its own; deals sell it.
public struct Product: Hashable, Sendable, Codable {
    public static let maximumNameLength = 200
    public static let maximumDescriptionLength = 2000

    public let id: ProductID
    public var name: String
    public var description: String

    /// Validates the name (1...200 characters) and description (at most 2000).
    public init(id: ProductID, name: String, description: String) throws(ValidationError) {
        guard !name.isEmpty, name.count <= Self.maximumNameLength else {
            throw ValidationError(field: "name", reason: "must be 1 to \(Self.maximumNameLength) characters")
        }
        guard description.count <= Self.maximumDescriptionLength else {
            throw ValidationError(
                field: "description", reason: "must be at most \(Self.maximumDescriptionLength) characters")
        }
        self.id = id
        self.name = name
        self.description = description
    }

    /// The event that records this product's creation.
    public var created: ProductCreated { ProductCreated(productID: id, name: name, description: description) }

    /// Rebuilds a product from its creation event.
    public init(_ event: ProductCreated) {
        id = event.productID
        name = event.name
        description = event.description
    }
}
