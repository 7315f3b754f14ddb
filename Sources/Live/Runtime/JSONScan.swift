/// JSON's tokens (RFC 8259) as both JSON readers scan them: the API's request reader
/// (`JSONMapReader`, into GraphQL's `Map`) and `CompactJSONDecoder`'s check of a document. Each
/// takes the bytes and where the token starts, and answers where it ends (nil: not JSON).
/// Inlinable: every request body goes through here.
public enum JSONScan {
    /// Where the white space (space, tab, line feed, carriage return) from `at` ends.
    @inlinable public static func space(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int {
        var at = at
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        return at
    }

    /// Where `word` (`true`, `false`, `null`) ends when it is at `at`.
    @inlinable public static func literal(_ word: StaticString, _ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { return nil }
        for i in 0..<count where bytes[at + i] != word.utf8Start[i] { return nil }
        return at + count
    }

    /// Where the number at `at` ends, and whether it is an integer (no fraction, no exponent).
    @inlinable public static func number(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> (end: Int, integral: Bool)? {
        var at = at
        func digits() -> Bool {
            let start = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return at > start
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        if at < bytes.count, bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else {
            guard digits() else { return nil }
        }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            integral = false
            at += 1
            guard digits() else { return nil }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            integral = false
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() else { return nil }
        }
        return (at, integral)
    }

    /// The escape at `at` (its backslash) inside a string: the character it stands for and how
    /// many bytes it takes. Nil for an unknown letter, a `\u` without four hex digits, and half a
    /// surrogate pair (a high one not followed by an escaped low one, or a low one alone).
    @inlinable public static func escape(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> (scalar: Unicode.Scalar, length: Int)? {
        guard at + 1 < bytes.count else { return nil }
        if let byte = unescaped(bytes[at + 1]) { return (Unicode.Scalar(byte), 2) }
        guard bytes[at + 1] == UInt8(ascii: "u"), let unit = utf16Unit(bytes, at + 2) else { return nil }
        guard (0xD800..<0xDC00).contains(unit) else { return Unicode.Scalar(unit).map { ($0, 6) } }
        guard at + 7 < bytes.count, bytes[at + 6] == UInt8(ascii: "\\"), bytes[at + 7] == UInt8(ascii: "u"), let low = utf16Unit(bytes, at + 8),
            (0xDC00..<0xE000).contains(low)
        else { return nil }
        return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)).map { ($0, 12) }
    }

    /// The byte a one-letter escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) stands for.
    @usableFromInline static func unescaped(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): letter
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The UTF-16 code unit of a `\u` escape's four hex digits at `at`.
    @usableFromInline static func utf16Unit(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var unit: UInt32 = 0
        for byte in bytes[at..<(at + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }
}
