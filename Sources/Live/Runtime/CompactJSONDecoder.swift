import Foundation

/// `Decodable` values read straight from a JSON string's bytes: the value `JSONDecoder` (default
/// options) reads from the same string, for the documents the request path reads back from Redis
/// on every status poll, payment and cancellation.
///
/// The document is checked once against JSON's grammar; then each object a value asks for is
/// indexed (its keys and where their values start) and values are read where they are, without
/// the tree `JSONDecoder` builds first or its casts for the types it treats specially. What this
/// reader does not read itself goes to `JSONDecoder` on the same string, and so does any error at
/// all: `JSONDecoder`'s value, or its error, is the answer. Left to it: a number with a fraction
/// or an exponent, a key with an escape or written twice, a `\u` escape of half a surrogate pair,
/// a date, data, a URL or a decimal, a `superDecoder`. So a document this reader accepts is read
/// as `JSONDecoder` reads it (`CompactJSONTests`), and a bad one is explained as `JSONDecoder`
/// explains it.
public struct CompactJSONDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        if let value = read(type, from: json) { return value }
        return try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    /// `bytes` as UTF-8 JSON (bytes that are not UTF-8 are `JSONDecoder`'s to refuse).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let json = String(validating: bytes, as: UTF8.self), let value = read(type, from: json) { return value }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The value as this reader reads it itself; nil for what it leaves to `JSONDecoder`.
    func read<T: Decodable>(_ type: T.Type, from json: String) -> T? {
        var json = json
        return json.withUTF8 { bytes in
            let reader = JSONByteReader(UnsafeRawBufferPointer(bytes))
            guard reader.valid, let value = try? reader.value(T.self, at: reader.root), !reader.unsupported else { return nil }
            return value
        }
    }
}

/// A JSON document's bytes, valid for the decoding that reads them (the string's storage, kept by
/// ``CompactJSONDecoder/decode(_:from:)`` for that long).
final class JSONByteReader {
    struct Unsupported: Error {}

    let bytes: UnsafeRawBufferPointer
    /// Where the document's value starts.
    private(set) var root = 0
    /// Whether the whole document is one JSON value this reader reads (surrogates in pairs,
    /// nesting within ``maxDepth``) with only white space around it.
    private(set) var valid = false
    /// Set when a value asked for what this reader does not read (see ``CompactJSONDecoder``).
    var unsupported = false
    static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        var at = space(0)
        root = at
        valid = check(&at, depth: 0) && space(at) == bytes.count
    }

    func fail() -> Unsupported {
        unsupported = true
        return Unsupported()
    }

    func byte(_ at: Int) -> UInt8 { at < bytes.count ? bytes[at] : 0 }

    func space(_ at: Int) -> Int { JSONScan.space(bytes, at) }

    // MARK: The grammar, checked once

    private func check(_ at: inout Int, depth: Int) -> Bool {
        guard depth < Self.maxDepth else { return false }
        switch byte(at) {
        case UInt8(ascii: "{"):
            at = space(at + 1)
            if byte(at) == UInt8(ascii: "}") { at += 1; return true }
            while true {
                guard byte(at) == UInt8(ascii: "\""), checkString(&at) else { return false }
                at = space(at)
                guard byte(at) == UInt8(ascii: ":") else { return false }
                at = space(at + 1)
                guard check(&at, depth: depth + 1) else { return false }
                at = space(at)
                if byte(at) == UInt8(ascii: "}") { at += 1; return true }
                guard byte(at) == UInt8(ascii: ",") else { return false }
                at = space(at + 1)
            }
        case UInt8(ascii: "["):
            at = space(at + 1)
            if byte(at) == UInt8(ascii: "]") { at += 1; return true }
            while true {
                guard check(&at, depth: depth + 1) else { return false }
                at = space(at)
                if byte(at) == UInt8(ascii: "]") { at += 1; return true }
                guard byte(at) == UInt8(ascii: ",") else { return false }
                at = space(at + 1)
            }
        case UInt8(ascii: "\""): return checkString(&at)
        case UInt8(ascii: "t"): return scanned(JSONScan.literal("true", bytes, at), &at)
        case UInt8(ascii: "f"): return scanned(JSONScan.literal("false", bytes, at), &at)
        case UInt8(ascii: "n"): return scanned(JSONScan.literal("null", bytes, at), &at)
        default: return scanned(JSONScan.number(bytes, at)?.end, &at)
        }
    }

    /// Moves `at` to a token's `end`; false when there is none.
    private func scanned(_ end: Int?, _ at: inout Int) -> Bool {
        guard let end else { return false }
        at = end
        return true
    }

    private func checkString(_ at: inout Int) -> Bool {
        at += 1
        while at < bytes.count {
            switch bytes[at] {
            case UInt8(ascii: "\""): at += 1; return true
            case UInt8(ascii: "\\"):
                // `JSONScan.escape` refuses half a surrogate pair: JSONDecoder's to refuse or repair.
                guard let (_, length) = JSONScan.escape(bytes, at) else { return false }
                at += length
            case 0..<0x20: return false
            default: at += 1
            }
        }
        return false
    }

    // MARK: Reading a checked document

    /// Where the value starting at `at` ends.
    func skip(_ at: Int) -> Int {
        var at = at
        var depth = 0
        repeat {
            switch bytes[at] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; at += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1; at += 1
            case UInt8(ascii: ":"), UInt8(ascii: ","): at += 1
            case UInt8(ascii: "\""):
                at += 1
                while bytes[at] != UInt8(ascii: "\"") { at += bytes[at] == UInt8(ascii: "\\") ? 2 : 1 }
                at += 1
            default:
                at += 1
                while at < bytes.count, !Self.endsScalar(bytes[at]) { at += 1 }
            }
            if depth > 0 { at = space(at) }
        } while depth > 0
        return at
    }

    static func endsScalar(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// The members of the object at `at`: each key's bytes and where its value starts.
    func members(_ at: Int) throws -> [(key: Range<Int>, value: Int)] {
        guard byte(at) == UInt8(ascii: "{") else { throw fail() }
        var found: [(key: Range<Int>, value: Int)] = []
        var at = space(at + 1)
        while bytes[at] == UInt8(ascii: "\"") {
            let key = try stringBytes(at)
            at = space(space(key.upperBound + 1) + 1)
            // A key written twice: JSONDecoder's to resolve.
            for member in found where member.key.count == key.count && bytes[member.key].elementsEqual(bytes[key]) { throw fail() }
            found.append((key, at))
            at = space(skip(at))
            if bytes[at] == UInt8(ascii: ",") { at = space(at + 1) }
        }
        return found
    }

    /// The elements of the array at `at`: where each starts.
    func elements(_ at: Int) throws -> [Int] {
        guard byte(at) == UInt8(ascii: "[") else { throw fail() }
        var found: [Int] = []
        var at = space(at + 1)
        while bytes[at] != UInt8(ascii: "]") {
            found.append(at)
            at = space(skip(at))
            if bytes[at] == UInt8(ascii: ",") { at = space(at + 1) }
        }
        return found
    }

    /// The bytes between the quotes of the string at `at`, which has no escape (a key).
    func stringBytes(_ at: Int) throws -> Range<Int> {
        guard byte(at) == UInt8(ascii: "\"") else { throw fail() }
        var end = at + 1
        while bytes[end] != UInt8(ascii: "\"") {
            if bytes[end] == UInt8(ascii: "\\") { throw fail() }
            end += 1
        }
        return (at + 1)..<end
    }

    /// The string at `at`, its escapes read (the document is checked: each is one `JSONScan.escape`
    /// reads).
    func string(_ at: Int) throws -> String {
        guard byte(at) == UInt8(ascii: "\"") else { throw fail() }
        var end = at + 1
        while bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
        if bytes[end] == UInt8(ascii: "\"") { return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 1)..<end]), as: UTF8.self) }
        var text = Array(bytes[(at + 1)..<end])
        while bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] == UInt8(ascii: "\\") else {
                text.append(bytes[end])
                end += 1
                continue
            }
            let (scalar, length) = JSONScan.escape(bytes, end)!  // checked
            UTF8.encode(scalar) { text.append($0) }
            end += length
        }
        return String(decoding: text, as: UTF8.self)
    }

    func bool(_ at: Int) throws -> Bool {
        switch byte(at) {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw fail()
        }
    }

    func isNull(_ at: Int) -> Bool { byte(at) == UInt8(ascii: "n") }

    /// An integer written without a fraction or an exponent, that fits `T`.
    func integer<T: FixedWidthInteger>(_ at: Int, as _: T.Type) throws -> T {
        var at = at
        let negative = byte(at) == UInt8(ascii: "-")
        if negative { at += 1 }
        var magnitude: UInt64 = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[at] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail() }
            magnitude = sum
            at += 1
        }
        guard at == bytes.count || Self.endsScalar(bytes[at]) else { throw fail() }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1, let value = T(exactly: magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)) else {
                throw fail()
            }
            return value
        }
        guard let value = T(exactly: magnitude) else { throw fail() }
        return value
    }

    /// A value of any `Decodable` type at `at`, through its own `init(from:)`.
    func value<T: Decodable>(_ type: T.Type, at: Int) throws -> T {
        // The types JSONDecoder reads its own way: JSONDecoder's to read.
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self { throw fail() }
        return try T(from: StreamingDecoder(reader: self, at: at))
    }
}

/// The `Decoder` of the value at `at`.
struct StreamingDecoder: Decoder {
    let reader: JSONByteReader
    let at: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(StreamingKeyedDecodingContainer<Key>(reader: reader, members: try reader.members(at)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        StreamingUnkeyedDecodingContainer(reader: reader, elements: try reader.elements(at))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { StreamingSingleValueDecodingContainer(reader: reader, at: at) }
}

struct StreamingKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let reader: JSONByteReader
    let members: [(key: Range<Int>, value: Int)]
    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] { members.compactMap { Key(stringValue: String(decoding: UnsafeRawBufferPointer(rebasing: reader.bytes[$0.key]), as: UTF8.self)) } }

    func find(_ key: Key) -> Int? {
        var name = key.stringValue
        return name.withUTF8 { wanted in
            members.first { $0.key.count == wanted.count && reader.bytes[$0.key].elementsEqual(wanted) }?.value
        }
    }

    func at(_ key: Key) throws -> Int {
        guard let at = find(key) else { throw reader.fail() }
        return at
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { reader.isNull(try at(key)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try reader.bool(try at(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try reader.string(try at(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw reader.fail() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw reader.fail() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try reader.integer(try at(key), as: type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try reader.integer(try at(key), as: type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try reader.integer(try at(key), as: type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try reader.integer(try at(key), as: type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try reader.integer(try at(key), as: type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try reader.integer(try at(key), as: type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try reader.integer(try at(key), as: type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try reader.integer(try at(key), as: type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try reader.integer(try at(key), as: type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try reader.integer(try at(key), as: type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try reader.value(type, at: try at(key)) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(StreamingKeyedDecodingContainer<NestedKey>(reader: reader, members: try reader.members(try at(key))))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        StreamingUnkeyedDecodingContainer(reader: reader, elements: try reader.elements(try at(key)))
    }

    func superDecoder() throws -> any Decoder { throw reader.fail() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw reader.fail() }
}

struct StreamingUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let reader: JSONByteReader
    let elements: [Int]
    var currentIndex = 0
    var codingPath: [any CodingKey] { [] }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(reader: JSONByteReader, elements: [Int]) {
        self.reader = reader
        self.elements = elements
    }

    /// The next element's start, taken.
    mutating func next() throws -> Int {
        guard !isAtEnd else { throw reader.fail() }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw reader.fail() }
        guard reader.isNull(elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(try next()) }
    mutating func decode(_ type: String.Type) throws -> String { try reader.string(try next()) }
    mutating func decode(_ type: Double.Type) throws -> Double { throw reader.fail() }
    mutating func decode(_ type: Float.Type) throws -> Float { throw reader.fail() }
    mutating func decode(_ type: Int.Type) throws -> Int { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.integer(try next(), as: type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.integer(try next(), as: type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try reader.value(type, at: try next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(StreamingKeyedDecodingContainer<NestedKey>(reader: reader, members: try reader.members(try next())))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        StreamingUnkeyedDecodingContainer(reader: reader, elements: try reader.elements(try next()))
    }

    mutating func superDecoder() throws -> any Decoder { throw reader.fail() }
}

struct StreamingSingleValueDecodingContainer: SingleValueDecodingContainer {
    let reader: JSONByteReader
    let at: Int
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { reader.isNull(at) }
    func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(at) }
    func decode(_ type: String.Type) throws -> String { try reader.string(at) }
    func decode(_ type: Double.Type) throws -> Double { throw reader.fail() }
    func decode(_ type: Float.Type) throws -> Float { throw reader.fail() }
    func decode(_ type: Int.Type) throws -> Int { try reader.integer(at, as: type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try reader.integer(at, as: type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try reader.integer(at, as: type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try reader.integer(at, as: type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try reader.integer(at, as: type) }
    func decode(_ type: UInt.Type) throws -> UInt { try reader.integer(at, as: type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.integer(at, as: type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.integer(at, as: type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.integer(at, as: type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.integer(at, as: type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try reader.value(type, at: at) }
}
