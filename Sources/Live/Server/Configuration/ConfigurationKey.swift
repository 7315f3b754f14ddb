import Domain
import LiveRedis
import LiveRuntime

/// One setting of ``ShopServer/Configuration``: its key (`redis.replicaTimeout`), the environment
/// variable and flag derived from it (`FLASHDEAL_REDIS_REPLICA_TIMEOUT`, `--redis-replica-timeout`),
/// what it takes, and how a text is read into the tree and the tree's value shown.
public struct ConfigurationKey {
    public typealias Tree = ShopServer.Configuration

    /// Dotted, camel-cased: `kafka.producer.linger`. A JSON file nests it (`{"kafka": {"producer": {"linger": "5ms"}}}`).
    public let key: String
    /// What a value must be, as an error message says it: `an integer in 1...65535`.
    public let expected: String
    public let summary: String
    /// Shown redacted (a connection string's password).
    public let redacts: Bool
    let read: (inout Tree, String) throws(ConfigurationError.Reason) -> Void
    let show: (Tree) -> String
    /// Never shown, not even in an error about it.
    var isSecret = false

    /// `FLASHDEAL_` and the key's words in capitals, joined by `_`.
    public var environmentName: String { "FLASHDEAL_" + Self.words(key).joined(separator: "_").uppercased() }
    /// `--` and the key's words in lower case, joined by `-`.
    public var flag: String { "--" + Self.words(key).joined(separator: "-").lowercased() }

    /// The value in `tree`, as this key would read it back (redacted where it redacts).
    public func value(in tree: Tree) -> String {
        let text = show(tree)
        return redacts ? Redacted.uri(text) : text
    }

    /// `redis.replicaTimeout` → redis, replica, timeout; `cache.catalogTTL` → cache, catalog, ttl.
    static func words(_ key: String) -> [String] {
        var words: [String] = []
        for part in key.split(separator: ".") {
            var word = ""
            var previous: Character?
            for character in part {
                if character.isUppercase, let previous, previous.isLowercase || previous.isNumber, !word.isEmpty {
                    words.append(word)
                    word = ""
                }
                word.append(character)
                previous = character
            }
            if !word.isEmpty { words.append(word) }
        }
        return words.map { $0.lowercased() }
    }
}

extension ConfigurationKey {
    static func text(_ key: String, _ path: WritableKeyPath<Tree, String>, _ summary: String) -> Self {
        Self(key: key, expected: "a non-empty text", summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
            guard !text.isEmpty else { throw .expected }
            tree[keyPath: path] = text
        }, show: { $0[keyPath: path] })
    }

    /// A connection string (unset by default: the embedded mode), redacted when shown.
    static func connection(_ key: String, _ path: WritableKeyPath<Tree, String?>, scheme: String?, _ expected: String, _ summary: String) -> Self {
        Self(key: key, expected: expected, summary: summary, redacts: true, read: { tree, text throws(ConfigurationError.Reason) in
            guard !text.isEmpty, scheme.map({ text.hasPrefix($0 + "://") }) ?? !text.contains("://") else { throw .expected }
            tree[keyPath: path] = text
        }, show: { $0[keyPath: path] ?? "" })
    }

    /// An optional text (unset by default).
    static func optionalText(_ key: String, _ path: WritableKeyPath<Tree, String?>, _ expected: String, _ summary: String) -> Self {
        Self(key: key, expected: expected, summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
            guard !text.isEmpty else { throw .expected }
            tree[keyPath: path] = text
        }, show: { $0[keyPath: path] ?? "" })
    }

    /// A secret: shown as `***` when set.
    static func secret(_ key: String, _ path: WritableKeyPath<Tree, String?>, _ summary: String) -> Self {
        Self(key: key, expected: "a secret of at least 32 characters", summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
            guard text.count >= 32 else { throw .expected }
            tree[keyPath: path] = text
        }, show: { $0[keyPath: path] == nil ? "" : "***" }, isSecret: true)
    }

    /// Comma-separated texts.
    static func list(_ key: String, _ path: WritableKeyPath<Tree, Set<String>>, _ summary: String) -> Self {
        Self(key: key, expected: "comma-separated texts", summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
            tree[keyPath: path] = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }, show: { $0[keyPath: path].sorted().joined(separator: ",") })
    }

    static func int(_ key: String, _ path: WritableKeyPath<Tree, Int>, _ range: ClosedRange<Int>, _ summary: String) -> Self {
        Self(key: key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", summary: summary, redacts: false, read: {
            tree, text throws(ConfigurationError.Reason) in
            guard let value = Int(text), range.contains(value) else { throw .expected }
            tree[keyPath: path] = value
        }, show: { String($0[keyPath: path]) })
    }

    static func double(_ key: String, _ path: WritableKeyPath<Tree, Double>, _ range: ClosedRange<Double>, _ summary: String) -> Self {
        Self(key: key, expected: "a number in \(range.lowerBound)...\(range.upperBound)", summary: summary, redacts: false, read: {
            tree, text throws(ConfigurationError.Reason) in
            guard let value = Double(text), value.isFinite, range.contains(value) else { throw .expected }
            tree[keyPath: path] = value
        }, show: { "\($0[keyPath: path])" })
    }

    static func bool(_ key: String, _ path: WritableKeyPath<Tree, Bool>, _ summary: String) -> Self {
        Self(key: key, expected: "true or false", summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
            switch text.lowercased() {
            case "true", "1", "yes": tree[keyPath: path] = true
            case "false", "0", "no": tree[keyPath: path] = false
            default: throw .expected
            }
        }, show: { String($0[keyPath: path]) })
    }

    static func duration(_ key: String, _ path: WritableKeyPath<Tree, Duration>, _ range: ClosedRange<Duration>, _ summary: String) -> Self {
        Self(key: key, expected: "a duration in \(DurationText.show(range.lowerBound))...\(DurationText.show(range.upperBound)), such as 250ms or 2s",
            summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
                guard let value = DurationText.read(text), range.contains(value) else { throw .expected }
                tree[keyPath: path] = value
            }, show: { DurationText.show($0[keyPath: path]) })
    }

    /// A duration that may be left to the library (`0`: unset).
    static func optionalDuration(_ key: String, _ path: WritableKeyPath<Tree, Duration?>, _ range: ClosedRange<Duration>, _ summary: String) -> Self {
        Self(key: key, expected: "0 (the library's own) or a duration up to \(DurationText.show(range.upperBound)), such as 250ms or 2s",
            summary: summary, redacts: false, read: { tree, text throws(ConfigurationError.Reason) in
                guard let value = DurationText.read(text), value == .zero || range.contains(value) else { throw .expected }
                tree[keyPath: path] = value == .zero ? nil : value
            }, show: { $0[keyPath: path].map(DurationText.show) ?? "0" })
    }

    static func choice<Value: RawRepresentable & CaseIterable>(_ key: String, _ path: WritableKeyPath<Tree, Value>, _ summary: String) -> Self
    where Value.RawValue == String {
        Self(key: key, expected: "one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))", summary: summary, redacts: false, read: {
            tree, text throws(ConfigurationError.Reason) in
            guard let value = Value(rawValue: text) else { throw .expected }
            tree[keyPath: path] = value
        }, show: { $0[keyPath: path].rawValue })
    }

    static func users(_ key: String, _ path: WritableKeyPath<Tree, Set<UserID>>, _ summary: String) -> Self {
        Self(key: key, expected: "comma-separated user ids (letters, digits and -_.:)", summary: summary, redacts: false, read: {
            tree, text throws(ConfigurationError.Reason) in
            do {
                tree[keyPath: path] = Set(try text.split(separator: ",").map { try UserID(validating: String($0)) })
            } catch { throw .expected }
        }, show: { $0[keyPath: path].map(\.rawValue).sorted().joined(separator: ",") })
    }
}

extension ConfigurationKey {
    /// A duration written as settings write them (`250ms`, `2s`, `1h`), for commands' own options.
    public static func duration(_ text: String) -> Duration? { DurationText.read(text) }
}

/// Durations as settings write them: a number and a unit, `250ms`, `2s`, `1.5s`, `5m`, `1h`, or
/// `0`. A bare number is refused (milliseconds or seconds?).
enum DurationText {
    static func read(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        let number = text.prefix { $0.isNumber || $0 == "." }
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let scale: Double
        switch text.dropFirst(number.count) {
        case "us": scale = 1e-6
        case "ms": scale = 1e-3
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        default: return nil
        }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }

    static func show(_ duration: Duration) -> String {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0" }
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(nanoseconds / 1000)us"
    }
}
