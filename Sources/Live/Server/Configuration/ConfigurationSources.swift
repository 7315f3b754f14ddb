import Foundation
import LiveRuntime

/// Where ``ShopServer/Configuration`` comes from, each overriding the one before: the defaults, an
/// optional JSON file (`--config` or `FLASHDEAL_CONFIG`: the keys nested, `{"redis": {"url": …}}`),
/// the environment (`FLASHDEAL_…`), then flags (`--redis-url VALUE` or `--redis-url=VALUE`).
///
/// A value that does not parse, or is out of range, is an error naming where it came from, the key
/// and what was expected; so are a file key or a flag that is no setting, and a name an earlier
/// release used (``ConfigurationKey/renamed``). The environment is shared with other programs, so
/// an unknown `FLASHDEAL_…` variable is only a note (the caller logs it) when it looks like one of
/// ours (`FLASHDEAL_REDIS_…`).
public struct ConfigurationSources {
    public var file: String?
    public var environment: [String: String]
    public var flags: [String]

    public init(file: String? = nil, environment: [String: String] = [:], flags: [String] = []) {
        self.file = file
        self.environment = environment
        self.flags = flags
    }

    /// The configuration, and notes on variables that were ignored.
    public func load() throws(ConfigurationError) -> (configuration: ShopServer.Configuration, notes: [String]) {
        let keys = ConfigurationKey.all
        var tree = ShopServer.Configuration()
        if let path = file ?? environment["FLASHDEAL_CONFIG"] {
            for (name, text) in try Self.fileSettings(path) {
                guard let key = keys.first(where: { $0.key == name }) else {
                    throw ConfigurationError("config file \(path): \(name) is not a setting\(Self.hint(for: name))")
                }
                try Self.apply(key, text, to: &tree, from: "config file \(path): \(name)")
            }
        }
        for key in keys {
            if let text = environment[key.environmentName] { try Self.apply(key, text, to: &tree, from: key.environmentName) }
        }
        var notes: [String] = []
        let known = Set(keys.map(\.environmentName) + ["FLASHDEAL_CONFIG"])
        let sections = Set(keys.compactMap { $0.key.contains(".") ? $0.environmentName.split(separator: "_")[1] : nil })
        for name in environment.keys.sorted() where name.hasPrefix("FLASHDEAL_") && !known.contains(name) {
            if let key = ConfigurationKey.renamed[name] { throw ConfigurationError("\(name) is no longer read: set \(Self.environmentName(key)) (\(key))") }
            let section = name.split(separator: "_").dropFirst().first
            if let section, sections.contains(section) { notes.append("\(name) is not a setting and is ignored (docs/configuration.md lists them)") }
        }
        try Self.applyFlags(flags, keys: keys, to: &tree)
        return (tree, notes)
    }

    static func applyFlags(_ flags: [String], keys: [ConfigurationKey], to tree: inout ShopServer.Configuration) throws(ConfigurationError) {
        var index = 0
        while index < flags.count {
            let argument = flags[index]
            guard argument.hasPrefix("--") else { throw ConfigurationError("\(argument) is not an option (settings are --name VALUE)") }
            var name = argument, value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            if let key = ConfigurationKey.renamed[name] { throw ConfigurationError("\(name) is no longer an option: use --\(ConfigurationKey.words(key).joined(separator: "-")) (\(key))") }
            guard let key = keys.first(where: { $0.flag == name }) else {
                throw ConfigurationError("\(name) is not an option\(Self.hint(for: name)) (docs/configuration.md lists every setting)")
            }
            if value == nil {
                index += 1
                guard index < flags.count, !flags[index].hasPrefix("--") else { throw ConfigurationError("\(name) (\(key.key)) needs a value: \(key.expected)") }
                value = flags[index]
            }
            try apply(key, value ?? "", to: &tree, from: name)
            index += 1
        }
    }

    static func apply(_ key: ConfigurationKey, _ text: String, to tree: inout ShopServer.Configuration, from source: String) throws(ConfigurationError) {
        do {
            try key.read(&tree, text.trimmingCharacters(in: .whitespaces))
        } catch {
            let shown = key.isSecret ? "***" : key.redacts ? Redacted.uri(text) : text
            throw ConfigurationError("\(source)\(source.hasSuffix(key.key) ? "" : " (\(key.key))"): expected \(key.expected), found \"\(shown)\"")
        }
    }

    /// The file's settings, dotted keys to texts (numbers and booleans as JSON writes them, lists
    /// joined by commas).
    static func fileSettings(_ path: String) throws(ConfigurationError) -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("config file \(path) cannot be read") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ConfigurationError("config file \(path) is not JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw ConfigurationError("config file \(path) must hold a JSON object of settings") }
        var settings: [(String, String)] = []
        func walk(_ object: [String: Any], _ prefix: String) throws(ConfigurationError) {
            for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                let key = prefix.isEmpty ? name : "\(prefix).\(name)"
                switch value {
                case let nested as [String: Any]: try walk(nested, key)
                case let text as String: settings.append((key, text))
                case let list as [Any]: settings.append((key, list.map { "\($0)" }.joined(separator: ",")))
                case is NSNull: throw ConfigurationError("config file \(path): \(key) is null (leave it out for its default)")
                default: settings.append((key, "\(value)"))
                }
            }
        }
        try walk(root, "")
        return settings
    }

    static func environmentName(_ key: String) -> String { "FLASHDEAL_" + ConfigurationKey.words(key).joined(separator: "_").uppercased() }

    /// ` (did you mean redis.url?)` for a name one or two edits from a setting's key or flag.
    static func hint(for name: String) -> String {
        let candidates = ConfigurationKey.all.flatMap { [$0.key, $0.flag] }
        guard let best = candidates.min(by: { distance($0, name) < distance($1, name) }), distance(best, name) <= 2 else { return "" }
        return " (did you mean \(best)?)"
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}

/// A setting that cannot be used, named with where it came from and what was expected.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }

    /// What a key's reader throws; ``ConfigurationSources`` names the key and source.
    enum Reason: Error { case expected }
}
