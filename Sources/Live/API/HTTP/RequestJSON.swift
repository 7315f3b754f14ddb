import Foundation
import GraphQL
import LiveRuntime
import OrderedCollections

/// The body of a GraphQL-over-HTTP request.
struct GraphQLHTTPRequest: Decodable, Sendable {
    let query: String
    let variables: [String: Map]?
    let operationName: String?

    init(query: String, variables: [String: Map]?, operationName: String?) {
        self.query = query
        self.variables = variables
        self.operationName = operationName
    }

    /// Reads a request body straight into GraphQL's `Map` (the variables' type) with one pass over
    /// the bytes; `JSONDecoder` would decode `Map` by trying each case in turn. A body this reader
    /// refuses goes through `JSONDecoder` for its error message.
    static func parse(_ body: Data) throws -> GraphQLHTTPRequest {
        if let request = body.withUnsafeBytes({ bytes -> GraphQLHTTPRequest? in
            var reader = JSONMapReader(bytes: bytes)
            guard let value = reader.document(), case .dictionary(let fields) = value, case .string(let query)? = fields["query"] else { return nil }
            var variables: [String: Map]?
            switch fields["variables"] {
            case .dictionary(let values)?: variables = Dictionary(uniqueKeysWithValues: values.map { ($0.key, $0.value) })
            case .null?, nil: variables = nil
            default: return nil
            }
            var operationName: String?
            switch fields["operationName"] {
            case .string(let name)?: operationName = name
            case .null?, nil: operationName = nil
            default: return nil
            }
            return GraphQLHTTPRequest(query: query, variables: variables, operationName: operationName)
        }) {
            return request
        }
        return try JSONDecoder().decode(GraphQLHTTPRequest.self, from: body)
    }
}

/// A strict JSON reader (RFC 8259) into `Map`: nil for anything that is not one JSON value with
/// only white space around it. Nesting is bounded, so a hostile body cannot exhaust the stack.
struct JSONMapReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    var depth = 0
    static let maxDepth = 64

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func document() -> Map? {
        guard let value = value() else { return nil }
        skipSpace()
        // Not a ternary: `Map` is nil-literal-expressible, so `nil` there would be `Map.null`.
        guard at == bytes.count else { return nil }
        return value
    }

    mutating func skipSpace() { at = JSONScan.space(bytes, at) }

    mutating func literal(_ text: StaticString, _ value: Map) -> Map? {
        guard let end = JSONScan.literal(text, bytes, at) else { return nil }
        at = end
        return value
    }

    mutating func value() -> Map? {
        skipSpace()
        guard at < bytes.count else { return nil }
        switch bytes[at] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(Map.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func object() -> Map? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return nil }
        at += 1
        var fields = OrderedDictionary<String, Map>()
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return .dictionary(fields)
        }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { return nil }
            at += 1
            guard let value = value() else { return nil }
            fields[key] = value
            skipSpace()
            guard at < bytes.count else { return nil }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "}") { at += 1; return .dictionary(fields) }
            return nil
        }
    }

    mutating func array() -> Map? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return nil }
        at += 1
        var values: [Map] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return .array(values)
        }
        while true {
            guard let value = value() else { return nil }
            values.append(value)
            skipSpace()
            guard at < bytes.count else { return nil }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(values) }
            return nil
        }
    }

    /// A string at `at` (which is its opening quote).
    mutating func string() -> String? {
        at += 1
        let start = at
        // The common case: no escapes, one copy.
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
        guard at < bytes.count else { return nil }
        if bytes[at] == UInt8(ascii: "\"") {
            defer { at += 1 }
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        }
        var scalars = Array(bytes[start..<at])
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return String(validating: scalars, as: UTF8.self)
            }
            guard byte >= 0x20 else { return nil }
            guard byte == UInt8(ascii: "\\") else {
                scalars.append(byte)
                at += 1
                continue
            }
            guard let (scalar, length) = JSONScan.escape(bytes, at) else { return nil }
            UTF8.encode(scalar) { scalars.append($0) }
            at += length
        }
        return nil
    }

    /// A number: an integer (that fits in `Int`) as an integer, anything else as a double.
    mutating func number() -> Map? {
        let start = at
        guard let (end, integral) = JSONScan.number(bytes, at) else { return nil }
        at = end
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        if integral, let int = Int(text) { return .number(Number(int)) }
        guard let double = Double(text), double.isFinite else { return nil }
        return .number(Number(double))
    }
}
