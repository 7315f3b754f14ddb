import Foundation
import Live
import LiveAPI
import LiveRuntime
import Testing

/// `serve`'s configuration: one tree, from a file, the environment and flags in that order, with
/// every bad value named.
@Suite struct ConfigurationTests {
    static func load(file: String? = nil, _ environment: [String: String] = [:], _ flags: [String] = []) throws -> ShopServer.Configuration {
        try ConfigurationSources(file: file, environment: environment, flags: flags).load().configuration
    }

    static func error(file: String? = nil, _ environment: [String: String] = [:], _ flags: [String] = []) -> String {
        do {
            _ = try load(file: file, environment, flags)
            return "no error"
        } catch { return "\(error)" }
    }

    static func file(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-config-\(UInt32.random(in: 0...UInt32.max)).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesTheFile() throws {
        let path = try Self.file(#"{"port": 8001, "redis": {"keyPrefix": "file"}, "payment": {"latency": "20ms"}, "kafka": {"producer": {"linger": "1ms"}}}"#)
        #expect(try Self.load(file: path).server.port == 8001)
        let both = try Self.load(file: path, ["FLASHDEAL_PORT": "8002", "FLASHDEAL_REDIS_KEY_PREFIX": "env"])
        #expect((both.server.port, both.redis.keyPrefix, both.payment.latency, both.kafka.producer.linger) == (8002, "env", .milliseconds(20), .milliseconds(1)))
        let all = try Self.load(file: path, ["FLASHDEAL_PORT": "8002", "FLASHDEAL_CONFIG": "/not/read"], ["--port", "8003", "--redis-key-prefix=flag"])
        #expect((all.server.port, all.redis.keyPrefix) == (8003, "flag"))
        let defaults = try Self.load()
        #expect(defaults.server.port == 8080 && defaults.mode == .embedded && defaults.admission.limits?.workers == 256)
    }

    @Test func aMalformedValueIsAnErrorNamingItsKeyAndWhatWasExpected() {
        #expect(Self.error(["FLASHDEAL_PORT": "abc"]) == #"FLASHDEAL_PORT (port): expected an integer in 1...65535, found "abc""#)
        #expect(Self.error([:], ["--admission-workers", "-1"]).hasPrefix("--admission-workers (admission.workers): expected an integer in 0...100000"))
        #expect(Self.error(["FLASHDEAL_PAYMENT_LATENCY": "20"]).contains("expected a duration in 0...60s, such as 250ms or 2s, found \"20\""))
        #expect(Self.error(["FLASHDEAL_ROLE": "manager"]).contains("expected one of all, api, writer, found \"manager\""))
        #expect(Self.error(["FLASHDEAL_PAYMENT_DECLINE_RATE": "1.5"]).contains("a number in 0.0...1.0"))
        #expect(Self.error(["FLASHDEAL_REDIS_URL": "http://:pw@h:1"]) == #"FLASHDEAL_REDIS_URL (redis.url): expected a redis:// URL such as redis://127.0.0.1:6379, found "http://:***@h:1""#)
        #expect(Self.error([:], ["--port"]).contains("--port (port) needs a value"))
    }

    @Test func unknownAndRenamedNamesAreRefusedAndLookalikesNoted() throws {
        #expect(Self.error([:], ["--redis-urll", "redis://h"]).contains("--redis-urll is not an option (did you mean --redis-url?)"))
        #expect(Self.error([:], ["--workers", "10"]).contains("--workers is no longer an option: use --admission-workers"))
        #expect(Self.error(["FLASHDEAL_PAYMENT_LATENCY_MS": "20"]) == "FLASHDEAL_PAYMENT_LATENCY_MS is no longer read: set FLASHDEAL_PAYMENT_LATENCY (payment.latency)")
        let path = try Self.file(#"{"redis": {"urll": "redis://h"}}"#)
        #expect(Self.error(file: path).hasSuffix("redis.urll is not a setting (did you mean redis.url?)"))
        #expect(Self.error(file: try Self.file("[1]")).hasSuffix("must hold a JSON object of settings"))
        #expect(Self.error(file: "/no/such/file.json") == "config file /no/such/file.json cannot be read")
        let (_, notes) = try ConfigurationSources(environment: ["FLASHDEAL_REDIS_PORT": "1", "FLASHDEAL_TANSU": "/bin/tansu"]).load()
        #expect(notes == ["FLASHDEAL_REDIS_PORT is not a setting and is ignored (docs/configuration.md lists them)"])
    }

    /// Each key reads back what it shows, and the names derive from the key.
    @Test func everyKeyReadsBackItsOwnDefault() throws {
        let defaults = ShopServer.Configuration()
        for key in ConfigurationKey.all {
            let shown = key.value(in: defaults)
            guard !shown.isEmpty else { continue }  // the connection strings: unset
            let read = try ConfigurationSources(flags: [key.flag, shown]).load().configuration
            #expect(key.value(in: read) == shown, "\(key.key)")
        }
        let linger = try #require(ConfigurationKey.all.first { $0.key == "kafka.producer.linger" })
        #expect((linger.environmentName, linger.flag) == ("FLASHDEAL_KAFKA_PRODUCER_LINGER", "--kafka-producer-linger"))
        let ttl = try #require(ConfigurationKey.all.first { $0.key == "api.responseCacheTTL" })
        #expect((ttl.environmentName, ttl.flag) == ("FLASHDEAL_API_RESPONSE_CACHE_TTL", "--api-response-cache-ttl"))
        #expect(Set(ConfigurationKey.all.map(\.key)).count == ConfigurationKey.all.count, "no key twice")
    }

    /// `docs/configuration.md` holds the table `flashdeal config --markdown` prints, so it lists
    /// every key with its current default.
    @Test func theDocumentListsEverySetting() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        #expect(document.contains(ConfigurationKey.markdownTable() + "\n"), "regenerate the table: flashdeal config --markdown")
    }

    @Test func connectionStringsAreShownWithoutTheirSecrets() throws {
        #expect(Redacted.uri("redis://:s3cret@10.0.0.1:6379") == "redis://:***@10.0.0.1:6379")
        #expect(Redacted.uri("redis://shop:s3cret@h:6379/0") == "redis://shop:***@h:6379/0")
        #expect(Redacted.uri("mongodb://shop:s3cret@h1:27017,h2:27017/fd?authSource=admin&tlsCertificateKeyFilePassword=pw&tlsCertificateKeyFile=/k.pem")
            == "mongodb://shop:***@h1:27017,h2:27017/fd?authSource=admin&tlsCertificateKeyFilePassword=***&tlsCertificateKeyFile=/k.pem")
        #expect(Redacted.uri("mongodb://h:27017/fd") == "mongodb://h:27017/fd")
        let configuration = try Self.load(["FLASHDEAL_MONGO_URI": "mongodb://u:s3cret@h/fd"])
        let shown = ConfigurationKey.all.map { "\($0.key) = \($0.value(in: configuration))" }
        #expect(shown.contains("mongo.uri = mongodb://u:***@h/fd") && !shown.joined().contains("s3cret"))
    }

    /// There is no default admin: on the backends with no key nobody is authenticated, the
    /// development secret is refused there, and a secret is never echoed.
    @Test func identityHasNoDefaultsToAbuse() async throws {
        var backends = ShopServer.Configuration()
        (backends.redis.url, backends.kafka.brokers, backends.mongo.uri) = ("redis://h:1", "h:1", "mongodb://h:1/fd")
        let anonymous = try await ShopServer.authenticator(backends, logger: .init(label: "test"))
        let devToken = try await Authenticator.bearer("ops", admin: true)
        await #expect(throws: AuthenticationError.self, "no key verifies any token") { _ = try await anonymous.caller(authorization: devToken) }
        #expect(try await anonymous.caller(authorization: nil) == nil)
        backends.auth.secret = Authenticator.developmentSecret
        await #expect(throws: StartupError.self) { _ = try await ShopServer.authenticator(backends, logger: .init(label: "test")) }
        let embedded = try await ShopServer.authenticator(ShopServer.Configuration(), logger: .init(label: "test"))
        #expect(try await embedded.caller(authorization: devToken) == Caller(user: "ops", isAdmin: true), "the demo verifies development tokens")
        let short = Self.error(["FLASHDEAL_AUTH_SECRET": "s3cret-but-short"])
        #expect(short == #"FLASHDEAL_AUTH_SECRET (auth.secret): expected a secret of at least 32 characters, found "***""#, "\(short)")
        let shown = ConfigurationKey.all.map { "\($0.key) = \($0.value(in: try! Self.load(["FLASHDEAL_AUTH_SECRET": String(repeating: "x", count: 40)])))" }
        #expect(shown.contains("auth.secret = ***"))
    }

    /// The composition reads its parts from the tree: an unreachable Redis with a password is named
    /// without it.
    @Test func startUpErrorsNameTheBackendWithoutItsPassword() async throws {
        var configuration = ShopServer.Configuration()
        configuration.redis.url = "redis://:s3cret@127.0.0.1:1"
        configuration.kafka.brokers = "127.0.0.1:1"
        configuration.mongo.uri = "mongodb://127.0.0.1:1/fd"
        configuration.redis.connectTimeout = .milliseconds(200)
        let error = await #expect(throws: StartupError.self) { try await ShopServer.compose(configuration, logger: .init(label: "test")) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("redis://:***@127.0.0.1:1") && !text.contains("s3cret"), "\(text)")
    }
}
