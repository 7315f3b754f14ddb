import Foundation

/// JSON written straight into bytes from `Encodable`'s own calls, without the tree of boxed values
/// `JSONEncoder` builds first or its casts for the types it treats specially: the documents the
/// request path writes to Redis on every order, payment and cancellation (orders, payments,
/// idempotency records, outbox entries) go through here.
///
/// With `sortedKeys` the bytes are `JSONEncoder`'s with `.sortedKeys`, so a document written by
/// either can be matched by the other's bytes (a claim's scope is removed from its pending list by
/// its bytes). Without, each object's keys are in the order its `encode(to:)` wrote them, where
/// `JSONEncoder` writes them in its dictionary's order: the same JSON value, in a fixed order.
///
/// Integers, booleans, strings, nil, nested objects and arrays are written here. A value that uses
/// anything else (a floating-point number, a date, data, a URL, a decimal, `superEncoder`, a
/// container written to after a sibling was; with sorted keys, a key written twice) is encoded by
/// `JSONEncoder` instead. `CompactJSONTests` compares the two. Without sorted keys a key written
/// twice is written twice (`JSONEncoder` keeps the last): no synthesized `Codable` does that.
public struct CompactJSONEncoder: Sendable {
    /// Keys in each object sorted by their UTF-8 bytes, as `JSONEncoder`'s `.sortedKeys`.
    public var sortedKeys: Bool

    public init(sortedKeys: Bool = false) { self.sortedKeys = sortedKeys }

    /// The JSON of `value` as bytes.
    public func bytes(_ value: some Encodable) throws -> [UInt8] {
        if let bytes = try streamed(value) { return bytes }
        let encoder = JSONEncoder()
        if sortedKeys { encoder.outputFormatting = [.sortedKeys] }
        return Array(try encoder.encode(value))
    }

    /// The JSON of `value` as this encoder writes it itself; nil when `value` uses what it leaves
    /// to `JSONEncoder`.
    func streamed(_ value: some Encodable) throws -> [UInt8]? {
        let writer = JSONByteWriter(sortedKeys: sortedKeys)
        do {
            try writer.value(value, at: 0)
        } catch is JSONByteWriter.Unsupported {
            return nil
        }
        return writer.unsupported ? nil : writer.out
    }

    /// The JSON of `value` as a string.
    public func string(_ value: some Encodable) throws -> String { String(decoding: try bytes(value), as: UTF8.self) }
}

/// The output and the containers open in it, innermost last. A container knows its level (how
/// many containers were open around it); writing at a level first closes every container opened
/// deeper, which is how a nested value's object or array ends: `Encodable` never says so.
final class JSONByteWriter {
    struct Unsupported: Error {}

    struct Open {
        let isObject: Bool
        /// Where its `{` or `[` is.
        let start: Int
        var count = 0
        /// Sorted objects only: where its members begin in ``JSONByteWriter/members``.
        let firstMember: Int
    }

    // Unchecked exclusivity: one encoding uses a writer, on one thread, and no method touches a
    // property while another holds it `inout`; the runtime's checks of each access (a thread-local
    // lookup apiece) cost more than the writing (`make bench`).
    let sortedKeys: Bool
    @exclusivity(unchecked) var out: [UInt8] = []
    @exclusivity(unchecked) var open: [Open] = []
    /// Sorted objects only: the open objects' members, each key and where its `"key":value` starts.
    @exclusivity(unchecked) var members: [(key: String, start: Int)] = []
    /// Reused while sorting.
    @exclusivity(unchecked) var scratch: [UInt8] = []
    /// Set when a value used what this writer does not write (see ``CompactJSONEncoder``).
    @exclusivity(unchecked) var unsupported = false

    init(sortedKeys: Bool) {
        self.sortedKeys = sortedKeys
        out.reserveCapacity(256)
    }

    /// Closes every container deeper than `level`.
    func close(downTo level: Int) {
        while open.count > level {
            let closing = open.removeLast()
            if closing.isObject {
                if sortedKeys { sortMembers(of: closing) }
                out.append(UInt8(ascii: "}"))
            } else {
                out.append(UInt8(ascii: "]"))
            }
        }
    }

    /// Starts a container at `level` (a value of the container at `level - 1`, or the root).
    func begin(object: Bool, at level: Int) throws {
        close(downTo: level)
        guard open.count == level else { throw fail() }
        open.append(Open(isObject: object, start: out.count, firstMember: members.count))
        out.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
    }

    /// Starts the next member (`key` in an object, nil in an array) of the container at `level`.
    func member(_ key: String?, of level: Int) throws {
        close(downTo: level)
        guard open.count == level, level > 0 else { throw fail() }
        if open[level - 1].count > 0 { out.append(UInt8(ascii: ",")) }
        open[level - 1].count += 1
        if let key {
            if sortedKeys { members.append((key, out.count)) }
            write(key)
            out.append(UInt8(ascii: ":"))
        }
    }

    /// The container of the value at `level`: the one it opened already when it asks again (as
    /// `JSONEncoder` gives it), else a new one. A value that asks for both kinds is `JSONEncoder`'s.
    func container(object: Bool, at level: Int) {
        close(downTo: level + 1)
        if open.count == level + 1 {
            if open[level].isObject != object { _ = fail() }
            return
        }
        do { try begin(object: object, at: level) } catch {}
    }

    /// A nested container as the next member (`key` in an object, nil in an array) of the container
    /// at `level`: the level of its own members.
    func nested(_ key: String?, object: Bool, of level: Int) -> Int {
        do {
            try member(key, of: level)
            try begin(object: object, at: level)
        } catch {}  // marked unsupported: JSONEncoder's to write
        return level + 1
    }

    /// `superEncoder`, which this writer leaves to `JSONEncoder`.
    func superEncoder(at level: Int) -> any Encoder {
        _ = fail()
        return StreamingEncoder(writer: self, depth: level)
    }

    /// A single value at `level`: only where the value has opened no container.
    func single(at level: Int) throws {
        guard open.count == level else { throw fail() }
    }

    func fail() -> Unsupported {
        unsupported = true
        return Unsupported()
    }

    /// Rewrites an object's members in the order of their keys' UTF-8 bytes. Two members with one
    /// key (no synthesized `Codable` writes them) are `JSONEncoder`'s to resolve.
    func sortMembers(of object: Open) {
        defer { members.removeSubrange(object.firstMember...) }
        let all = members[object.firstMember...]
        guard zip(all, all.dropFirst()).contains(where: { !$0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) else { return }
        let order = all.indices.sorted { all[$0].key.utf8.lexicographicallyPrecedes(all[$1].key.utf8) }
        guard zip(order, order.dropFirst()).allSatisfy({ all[$0].key != all[$1].key }) else {
            unsupported = true
            return
        }
        scratch.removeAll(keepingCapacity: true)
        for (n, i) in order.enumerated() {
            if n > 0 { scratch.append(UInt8(ascii: ",")) }
            // Each member ends at the comma before the next, the last where the object does.
            scratch.append(contentsOf: out[all[i].start..<(i + 1 < all.endIndex ? all[i + 1].start - 1 : out.count)])
        }
        out.replaceSubrange((object.start + 1)..<out.count, with: scratch)
    }

    func write(_ string: String) { JSONString.write(string, into: &out, escapingSlashes: true) }

    func write(_ value: Bool) { out.append(contentsOf: value ? Self.trueBytes : Self.falseBytes) }
    static let trueBytes = Array("true".utf8)
    static let falseBytes = Array("false".utf8)
    static let nullBytes = Array("null".utf8)

    func writeNull() { out.append(contentsOf: Self.nullBytes) }

    func write<T: FixedWidthInteger>(_ value: T) {
        var magnitude = UInt64(truncatingIfNeeded: value.magnitude)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
            var at = digits.count
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                at -= 1
                digits[at] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[at...]))
        }
    }
}

/// The `Encoder` a value at `depth` (the containers open around it) is encoded with.
struct StreamingEncoder: Encoder {
    let writer: JSONByteWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        writer.container(object: true, at: depth)
        return KeyedEncodingContainer(StreamingKeyedContainer<Key>(writer: writer, level: depth + 1))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.container(object: false, at: depth)
        return StreamingUnkeyedContainer(writer: writer, level: depth + 1)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { StreamingSingleValueContainer(writer: writer, level: depth) }
}

/// One value (of a container, or the root), through its own `encode(to:)`.
extension JSONByteWriter {
    func value<T: Encodable>(_ value: T, at level: Int) throws {
        // The types JSONEncoder writes its own way (dates and data by strategy, URLs as strings,
        // decimals as numbers): JSONEncoder's to write.
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self { throw fail() }
        let before = out.count
        try value.encode(to: StreamingEncoder(writer: self, depth: level))
        close(downTo: level)
        // A value that wrote nothing: JSONEncoder writes `{}`.
        if out.count == before { throw fail() }
    }
}

struct StreamingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    let level: Int
    var codingPath: [any CodingKey] { [] }

    func encodeNil(forKey key: Key) throws {
        try writer.member(key.stringValue, of: level)
        writer.writeNull()
    }
    func encode(_ value: Bool, forKey key: Key) throws {
        try writer.member(key.stringValue, of: level)
        writer.write(value)
    }
    func encode(_ value: String, forKey key: Key) throws {
        try writer.member(key.stringValue, of: level)
        writer.write(value)
    }
    func encode(_ value: Double, forKey key: Key) throws { throw writer.fail() }
    func encode(_ value: Float, forKey key: Key) throws { throw writer.fail() }
    func encode(_ value: Int, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int32, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try writer.member(key.stringValue, of: level)
        try writer.value(value, at: level)
    }

    private func integer(_ value: some FixedWidthInteger, _ key: Key) throws {
        try writer.member(key.stringValue, of: level)
        writer.write(value)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(writer: writer, level: writer.nested(key.stringValue, object: true, of: level)))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        StreamingUnkeyedContainer(writer: writer, level: writer.nested(key.stringValue, object: false, of: level))
    }

    func superEncoder() -> any Encoder { writer.superEncoder(at: level) }
    func superEncoder(forKey key: Key) -> any Encoder { writer.superEncoder(at: level) }
}

/// What the unkeyed and the single-value container write alike (their requirements have the same
/// signatures): each value starts with ``begin()``, which places it in the container.
protocol StreamingValues {
    var writer: JSONByteWriter { get }
    /// The level the value is written at.
    var level: Int { get }
    func begin() throws
}

extension StreamingValues {
    func encodeNil() throws {
        try begin()
        writer.writeNull()
    }
    func encode(_ value: Bool) throws {
        try begin()
        writer.write(value)
    }
    func encode(_ value: String) throws {
        try begin()
        writer.write(value)
    }
    func encode(_ value: Double) throws { throw writer.fail() }
    func encode(_ value: Float) throws { throw writer.fail() }
    func encode(_ value: Int) throws { try integer(value) }
    func encode(_ value: Int8) throws { try integer(value) }
    func encode(_ value: Int16) throws { try integer(value) }
    func encode(_ value: Int32) throws { try integer(value) }
    func encode(_ value: Int64) throws { try integer(value) }
    func encode(_ value: UInt) throws { try integer(value) }
    func encode(_ value: UInt8) throws { try integer(value) }
    func encode(_ value: UInt16) throws { try integer(value) }
    func encode(_ value: UInt32) throws { try integer(value) }
    func encode(_ value: UInt64) throws { try integer(value) }
    func encode<T: Encodable>(_ value: T) throws {
        try begin()
        try writer.value(value, at: level)
    }

    private func integer(_ value: some FixedWidthInteger) throws {
        try begin()
        writer.write(value)
    }
}

struct StreamingUnkeyedContainer: UnkeyedEncodingContainer, StreamingValues {
    let writer: JSONByteWriter
    let level: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { writer.open.count >= level ? writer.open[level - 1].count : 0 }

    func begin() throws { try writer.member(nil, of: level) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(writer: writer, level: writer.nested(nil, object: true, of: level)))
    }

    func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        StreamingUnkeyedContainer(writer: writer, level: writer.nested(nil, object: false, of: level))
    }

    func superEncoder() -> any Encoder { writer.superEncoder(at: level) }
}

struct StreamingSingleValueContainer: SingleValueEncodingContainer, StreamingValues {
    let writer: JSONByteWriter
    let level: Int
    var codingPath: [any CodingKey] { [] }

    func begin() throws { try writer.single(at: level) }
}
