public import Foundation

/// Reads a JSON object strictly: every key must be expected, every value of the expected type
/// and range. Errors name the JSON path (`$.http.replicas`) and what was expected.
public struct JSONReader {
    public let path: String
    let object: [String: Any]
    private var seen: Set<String> = []

    init(_ object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    /// Parses a whole document, which must be an object.
    public static func parse(_ data: Data) throws(ScenarioError) -> JSONReader {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw ScenarioError(path: "$", message: "is not valid JSON: \(detail)")
        }
        guard let object = value as? [String: Any] else { throw ScenarioError(path: "$", message: "expected an object") }
        return JSONReader(object, path: "$")
    }

    func child(_ key: String) -> String { "\(path).\(key)" }

    public mutating func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    mutating func raw(_ key: String) -> Any? {
        seen.insert(key)
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    /// A number, or `defaultValue` when absent; `range` is checked.
    public mutating func double(_ key: String, default defaultValue: Double? = nil, in range: ClosedRange<Double>? = nil) throws(ScenarioError) -> Double {
        guard let value = raw(key) else {
            guard let defaultValue else { throw ScenarioError(path: child(key), message: "is required (a number)") }
            return defaultValue
        }
        guard let number = value as? NSNumber, !Self.isBool(number), number.doubleValue.isFinite else {
            throw ScenarioError(path: child(key), message: "expected a number, found \(Self.describe(value))")
        }
        let x = number.doubleValue
        if let range, !range.contains(x) {
            throw ScenarioError(path: child(key), message: "expected a number in \(range.lowerBound)...\(range.upperBound), found \(x)")
        }
        return x
    }

    public mutating func int(_ key: String, default defaultValue: Int? = nil, in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard let value = raw(key) else {
            guard let defaultValue else { throw ScenarioError(path: child(key), message: "is required (an integer)") }
            return defaultValue
        }
        guard let number = value as? NSNumber, !Self.isBool(number),
            number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 9e15
        else {
            throw ScenarioError(path: child(key), message: "expected an integer, found \(Self.describe(value))")
        }
        let x = number.intValue
        guard range.contains(x) else {
            throw ScenarioError(path: child(key), message: "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(x)")
        }
        return x
    }

    public mutating func bool(_ key: String, default defaultValue: Bool) throws(ScenarioError) -> Bool {
        guard let value = raw(key) else { return defaultValue }
        guard let number = value as? NSNumber, Self.isBool(number) else {
            throw ScenarioError(path: child(key), message: "expected true or false, found \(Self.describe(value))")
        }
        return number.boolValue
    }

    public mutating func string(_ key: String, default defaultValue: String? = nil, oneOf allowed: [String]? = nil) throws(ScenarioError) -> String {
        guard let value = raw(key) else {
            guard let defaultValue else { throw ScenarioError(path: child(key), message: "is required (a string)") }
            return defaultValue
        }
        guard let text = value as? String else {
            throw ScenarioError(path: child(key), message: "expected a string, found \(Self.describe(value))")
        }
        if let allowed, !allowed.contains(text) {
            throw ScenarioError(path: child(key), message: "expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), found \"\(text)\"")
        }
        return text
    }

    /// A nested object read by `read`, or `nil` when absent.
    public mutating func object<T>(_ key: String, _ read: (inout JSONReader) throws(ScenarioError) -> T) throws(ScenarioError) -> T? {
        guard let value = raw(key) else { return nil }
        guard let object = value as? [String: Any] else {
            throw ScenarioError(path: child(key), message: "expected an object, found \(Self.describe(value))")
        }
        var reader = JSONReader(object, path: child(key))
        let result = try read(&reader)
        try reader.finish()
        return result
    }

    /// An array of objects, each read by `read`.
    public mutating func objects<T>(_ key: String, _ read: (inout JSONReader) throws(ScenarioError) -> T) throws(ScenarioError) -> [T]? {
        guard let value = raw(key) else { return nil }
        guard let array = value as? [Any] else {
            throw ScenarioError(path: child(key), message: "expected an array, found \(Self.describe(value))")
        }
        var results: [T] = []
        for (i, element) in array.enumerated() {
            guard let object = element as? [String: Any] else {
                throw ScenarioError(path: "\(child(key))[\(i)]", message: "expected an object, found \(Self.describe(element))")
            }
            var reader = JSONReader(object, path: "\(child(key))[\(i)]")
            results.append(try read(&reader))
            try reader.finish()
        }
        return results
    }

    /// An array of numbers.
    public mutating func numbers(_ key: String) throws(ScenarioError) -> [Double]? {
        guard let value = raw(key) else { return nil }
        guard let array = value as? [Any] else {
            throw ScenarioError(path: child(key), message: "expected an array of numbers, found \(Self.describe(value))")
        }
        var numbers: [Double] = []
        for (i, element) in array.enumerated() {
            guard let n = element as? NSNumber, !Self.isBool(n), n.doubleValue.isFinite else {
                throw ScenarioError(path: "\(child(key))[\(i)]", message: "expected a number, found \(Self.describe(element))")
            }
            numbers.append(n.doubleValue)
        }
        return numbers
    }

    /// Fails on any key that was not read: a typo never passes silently.
    public func finish() throws(ScenarioError) {
        let unknown = Set(object.keys).subtracting(seen).sorted()
        guard let first = unknown.first else { return }
        throw ScenarioError(path: child(first), message: "is not a known key here (known: \(seen.sorted().joined(separator: ", ")))")
    }

    /// JSON `true`/`false` arrive as NSNumber too; their Objective-C type is `c`.
    static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    static func describe(_ value: Any) -> String {
        switch value {
        case let n as NSNumber where isBool(n): return n.boolValue ? "true" : "false"
        case let n as NSNumber: return "the number \(n)"
        case let s as String: return "the string \"\(s.prefix(40))\""
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "null"
        }
    }
}

/// A scenario that cannot run: where (a JSON path) and what was expected.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
