public import Domain

/// Redis Cluster's key space: 16,384 hash slots, a key's slot the CRC16 (XMODEM) of its hash tag
/// (the text between the first `{` and the next `}`, when not empty) or of the whole key.
///
/// The shop keeps everything one deal's money path touches in its deal's slot, so each step is one
/// atomic script on one primary: the gate's keys carry the deal as their tag (`fd:{deal-1}:gate`),
/// and the orders and payments, read by id alone, carry the deal's slot in their id
/// (`o-<uuid>.s1234`, ``placing(_:with:)``); their keys take a short tag of that slot
/// (``tag(of:)``). Ids without it (made before, or by tests) keep a tag of their own.
public enum HashSlot {
    public static let count = 16_384

    public static func of(_ key: String) -> Int {
        var bytes = Array(key.utf8)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            bytes = Array(bytes[(open + 1)..<close])
        }
        return Int(crc16(bytes)) % count
    }

    /// The slot of `deal`'s keys (their tag is the deal's id).
    public static func of(_ deal: DealID) -> Int { Int(crc16(Array(deal.rawValue.utf8))) % count }

    static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    /// `id` naming the slot of `deal`: `<id>.s<slot>`.
    public static func placing(_ id: String, with deal: DealID) -> String { "\(id).s\(of(deal))" }

    /// `id` naming the slot `other` names (a payment beside its order); `id` as it is when `other`
    /// names none.
    public static func placing(_ id: String, like other: String) -> String {
        guard let slot = placed(other) else { return id }
        return "\(id).s\(slot)"
    }

    /// The slot an id made by ``placing(_:with:)`` names; nil for any other id.
    public static func placed(_ id: String) -> Int? {
        guard let dot = id.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        let suffix = id.utf8[id.utf8.index(after: dot)...]
        guard suffix.count >= 2, suffix.count <= 6, suffix.first == UInt8(ascii: "s") else { return nil }
        var slot = 0
        for byte in suffix.dropFirst() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            slot = slot * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return slot < count ? slot : nil
    }

    /// The hash tag for an id's keys: a short text in the slot the id names, or nil when it names
    /// none.
    public static func tag(of id: String) -> String? { placed(id).map { tags[$0] } }

    /// For each slot, the first base-36 number (`0`, `1`, ... `zzzz`) whose text hashes to it: every
    /// slot has one of at most four characters (about 88,000 tried, once per process).
    static let tags: [String] = {
        var table = [String?](repeating: nil, count: count)
        var found = 0
        var n = 0
        while found < count {
            let text = String(n, radix: 36)
            let slot = of(text)
            if table[slot] == nil {
                table[slot] = text
                found += 1
            }
            n += 1
        }
        return table.map { $0! }
    }()
}
