import Foundation
import GraphQL
import LiveRuntime

/// A GraphQL response as JSON, written straight from the result's `Map` in the fields' order (what
/// the GraphQL spec asks for) without `JSONEncoder`'s boxing: the response of every request goes
/// through here. A result with errors goes through `JSONEncoder` (rare, and the errors' shape is
/// GraphQL's).
enum ResponseJSON {
    static func encode(_ result: GraphQLResult) throws -> Data {
        guard result.errors.isEmpty, let data = result.data else {
            return try JSONEncoder().encode(result)
        }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: #"{"data":"#.utf8)
        write(data, into: &out)
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }

    static func write(_ map: Map, into out: inout [UInt8]) {
        switch map {
        case .undefined, .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let number):
            write(number, into: &out)
        case .string(let string):
            write(string, into: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(value, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in fields where !value.isUndefined {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func write(_ number: Number, into out: inout [UInt8]) {
        switch number.storageType {
        case .bool:
            out.append(contentsOf: (number.boolValue ? "true" : "false").utf8)
        case .int:
            out.append(contentsOf: String(number.intValue).utf8)
        case .double, .unknown:
            let value = number.doubleValue
            if !value.isFinite {
                out.append(contentsOf: "null".utf8)
            } else if value == value.rounded(), abs(value) < 9e15 {
                out.append(contentsOf: String(Int64(value)).utf8)
            } else {
                out.append(contentsOf: "\(value)".utf8)
            }
        }
    }

    static func write(_ string: String, into out: inout [UInt8]) {
        JSONString.write(string, into: &out)
    }
}
