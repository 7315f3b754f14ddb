/// An amount in a currency's minor unit (won have none: 1 KRW is 1 unit).
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: String

    public init(minorUnits: Int64, currency: String = "KRW") {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }

    /// The price of `quantity` units at this unit price.
    public func times(_ quantity: Int) -> Money {
        Money(minorUnits: minorUnits * Int64(quantity), currency: currency)
    }

    public var description: String { "\(minorUnits) \(currency)" }
}
