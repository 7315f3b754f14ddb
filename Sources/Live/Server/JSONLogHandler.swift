#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LiveRuntime
public import Logging

/// swift-log's entries as one JSON object a line on standard error, for a log pipeline
/// (`deploy/loki/promtail.yml` parses them): `time` (RFC 3339, UTC, milliseconds), `level`,
/// `logger` (the label), `message`, `request_id` (Hummingbird's `hb.request.id`), `trace_id` and
/// `span_id` (from the metadata provider, under tracing), `error` when the entry carries one, then
/// every other metadata key as it is named (`flashdeal.deal.id`, ...). Values are strings; nested
/// metadata is nested JSON. Nothing here reads headers or configuration: what is logged is what
/// the code puts in an entry, and connection strings are redacted before they are.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable ([UInt8]) -> Void

    /// `write` receives each line, UTF-8, without its newline (standard error by default).
    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable ([UInt8]) -> Void = Self.standardError) {
        self.label = label
        logLevel = level
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        func field(_ name: String, _ value: String) {
            line.append(line.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONString.write(name, into: &line)
            line.append(UInt8(ascii: ":"))
            JSONString.write(value, into: &line)
        }
        field("time", Self.timestamp())
        field("level", event.level.rawValue)
        field("logger", label)
        field("message", event.message.description)
        if let id = merged.removeValue(forKey: "hb.request.id") { field("request_id", id.description) }
        if let error = event.error { field("error", "\(error)") }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: ","))
            JSONString.write(key, into: &line)
            line.append(UInt8(ascii: ":"))
            Self.write(value, into: &line)
        }
        line.append(UInt8(ascii: "}"))
        write(line)
    }

    /// Writes one line and its newline to standard error in one call, so concurrent lines never
    /// interleave.
    public static let standardError: @Sendable ([UInt8]) -> Void = { line in
        let bytes = line + [UInt8(ascii: "\n")]
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// A metadata value: a string (a convertible's description), or nested JSON.
    static func write(_ value: Logger.MetadataValue, into line: inout [UInt8]) {
        switch value {
        case .string(let text): JSONString.write(text, into: &line)
        case .stringConvertible(let convertible): JSONString.write(convertible.description, into: &line)
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { line.append(UInt8(ascii: ",")) }
                write(element, into: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let values):
            line.append(UInt8(ascii: "{"))
            for (i, (key, element)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { line.append(UInt8(ascii: ",")) }
                JSONString.write(key, into: &line)
                line.append(UInt8(ascii: ":"))
                write(element, into: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    /// Now as `2026-12-02T14:16:19.123Z` (digits written directly: `String(format:)` costs
    /// microseconds a line).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var value = value
            while divisor > 0 {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(48 + value / divisor)))
                value %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); text += "-"; digits(Int(parts.tm_mon) + 1, 2); text += "-"; digits(Int(parts.tm_mday), 2)
        text += "T"; digits(Int(parts.tm_hour), 2); text += ":"; digits(Int(parts.tm_min), 2); text += ":"; digits(Int(parts.tm_sec), 2)
        text += "."; digits(now.tv_nsec / 1_000_000, 3); text += "Z"
        return text
    }
}
