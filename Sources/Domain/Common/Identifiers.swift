/// A typed identifier: a validated string tagged with what it identifies, so an
/// ``OrderID`` can never be passed where a ``DealID`` is expected.
public struct Identifier<Tag: IdentifierTag>: Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    /// Creates an identifier, or throws ``ValidationError`` naming `field` when the text is empty,
    /// longer than ``Identifiers/maximumLength`` or has a character outside `A-Z a-z 0-9 - _ . :`.
    public init(validating rawValue: String, field: String = Tag.fieldName) throws(ValidationError) {
        guard !rawValue.isEmpty else { throw ValidationError(field: field, reason: "must not be empty") }
        guard rawValue.utf8.count <= Identifiers.maximumLength else {
            throw ValidationError(field: field, reason: "must be at most \(Identifiers.maximumLength) characters")
        }
        guard rawValue.utf8.allSatisfy(Identifiers.isAllowed) else {
            throw ValidationError(field: field, reason: "may contain only letters, digits, '-', '_', '.' and ':'")
        }
        self.rawValue = rawValue
    }

    /// Creates an identifier from trusted text (literals, stored data). Invalid text traps.
    public init(_ rawValue: String) {
        do { try self.init(validating: rawValue) } catch { preconditionFailure("\(error)") }
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(validating: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public enum Identifiers {
    public static let maximumLength = 64

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }
}

public protocol IdentifierTag: Sendable {
    static var fieldName: String { get }
}

public enum ProductTag: IdentifierTag { public static let fieldName = "productId" }
public enum DealTag: IdentifierTag { public static let fieldName = "dealId" }
public enum OrderTag: IdentifierTag { public static let fieldName = "orderId" }
public enum PaymentTag: IdentifierTag { public static let fieldName = "paymentId" }
public enum UserTag: IdentifierTag { public static let fieldName = "userId" }
public enum IdempotencyTag: IdentifierTag { public static let fieldName = "idempotencyKey" }

public typealias ProductID = Identifier<ProductTag>
public typealias DealID = Identifier<DealTag>
public typealias OrderID = Identifier<OrderTag>
public typealias PaymentID = Identifier<PaymentTag>
public typealias UserID = Identifier<UserTag>
public typealias IdempotencyKey = Identifier<IdempotencyTag>
