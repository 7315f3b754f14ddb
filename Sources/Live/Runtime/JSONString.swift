/// A string as a JSON string literal, appended as UTF-8 bytes: quotes, backslashes and control
/// characters escaped, everything else as it is. What the API's responses (`ResponseJSON`), the
/// JSON log lines (`JSONLogHandler`) and the documents in Redis (`CompactJSONEncoder`, which
/// escapes `/` as well, as `JSONEncoder` does) are written with.
public enum JSONString {
    @usableFromInline static let hex = Array("0123456789abcdef".utf8)

    /// Inlinable: every string of every API response goes through here. A string with nothing to
    /// escape (nearly every one) is copied in one piece.
    @inlinable public static func write(_ string: String, into out: inout [UInt8], escapingSlashes: Bool = false) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            if !bytes.contains(where: { needsEscape($0, escapingSlashes) }) {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "/") where escapingSlashes: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
                case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0..<0x20:
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    @inlinable static func needsEscape(_ byte: UInt8, _ escapingSlashes: Bool) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (escapingSlashes && byte == UInt8(ascii: "/"))
    }
}
