import ArgumentParser
import Domain
import Foundation
import Live
import LiveAPI
import LiveKafka
import LiveRuntime
import LiveTools
import Logging

/// `flashdeal calibrate`: measures the live system's service times on the real backends and writes
/// them as a calibration file scenarios include (`experiments/calibration/<name>.json`).
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the live system's service times on the real backends and write a calibration file.",
        discussion: """
            Times, on the backends given (flags or FLASHDEAL_* variables): a Redis round trip (PING), a read \
            (HMGET) and a stock-gate EVALSHA; a Kafka produce of one message and of a burst; a MongoDB read, a \
            one-document and a 500-document insert_many; and the server's CPU per GraphQL operation, executing \
            each operation in-process through the same router `serve` uses (getrusage before and after). Writes \
            experiments/calibration/<name>.json with the machine it ran on in its description.
            """)

    @Option(help: "The calibration's name: experiments/calibration/<name>.json.") var name = "measured"
    @Option(help: "Samples per measurement.") var samples = 300
    @OptionGroup var backends: BackendOptions
    @Option(help: "The payment provider's latency the server runs with, in ms.") var paymentLatencyMs = 0.0
    @Option(help: "The folder calibration files go in.") var directory = "experiments/calibration"

    func run() async throws {
        var configuration = try backends.backends(kafka: true)
        let (redis, kafka, mongo) = (configuration.redis.url ?? "", configuration.kafka.brokers ?? "", configuration.mongo.uri ?? "")
        guard (20...100_000).contains(samples) else { throw ValidationError("--samples must be between 20 and 100000") }
        let tag = "calibrate\(UInt32.random(in: 0...UInt32.max))"
        (configuration.redis.keyPrefix, configuration.kafka.topicPrefix, configuration.server.role) = (tag, tag, .api)
        var logger = Logger(label: "calibrate")
        logger.logLevel = .warning
        let composition: ShopServer.Composition
        do { composition = try await ShopServer.compose(configuration, logger: logger) } catch let error as StartupError { throw ValidationError("\(error)") }
        let probes = try await BackendProbes(redisURL: redis, kafkaBrokers: kafka, mongoURI: mongo, tag: tag)
        func say(_ s: String) { FileHandle.standardError.write(Data("calibrate: \(s)\n".utf8)) }

        say("Redis round trip, read and stock gate")
        let ping = try await probes.time(samples) { try await probes.ping() }
        let read = try await probes.time(samples) { try await probes.read() }
        let shop = Shop(ports: composition.ports)
        let router = try ShopRouter(shop: shop, hub: composition.hub)
        let operations = try await OperationProbes(router: router, shop: shop, tag: tag, samples: samples)
        let gate = try await probes.time(samples) { try await operations.reserveDirect() }
        say("Kafka produce")
        let produceOne = try await probes.time(max(20, samples / 10)) { try await probes.produce(1) }
        let burst = 2000
        let produceBurst = try await probes.time(3) { try await probes.produce(burst) }
        say("MongoDB read and inserts")
        let mongoRead = try await probes.time(max(20, samples / 5)) { try await probes.mongoRead() }
        let insertOne = try await probes.time(20) { try await probes.insert(1) }
        let insertMany = try await probes.time(5) { try await probes.insert(500) }
        say("server CPU per GraphQL operation (\(samples) each)")
        let cpu = try await operations.cpuPerOperation()
        probes.close()

        let rtt = ping.mean
        func lognormal(_ ms: Double, _ sd: Double) -> [String: Any] { ["type": "lognormal", "meanMs": round4(max(0.001, ms)), "sdMs": round4(max(0.0005, sd))] }
        func constant(_ ms: Double) -> [String: Any] { ["type": "constant", "valueMs": round4(max(0.001, ms))] }
        let linger = 5.0
        let calibration: [String: Any] = [
            "description": "Measured by flashdeal calibrate on \(Machine.describe()), \(ISO8601DateFormatter().string(from: Date())), \(samples) samples each. "
                + "Redis PING \(fmt(ping.mean)) ms, HMGET \(fmt(read.mean)) ms, gate EVALSHA \(fmt(gate.mean)) ms; Kafka produce \(fmt(produceOne.mean)) ms (linger \(linger) ms), "
                + "\(burst) messages \(fmt(produceBurst.mean)) ms; MongoDB find \(fmt(mongoRead.mean)) ms, insert 1 \(fmt(insertOne.mean)) ms, insert 500 \(fmt(insertMany.mean)) ms. "
                + "CPU per operation executed in-process (no HTTP parsing).",
            "network": ["backendRtt": constant(rtt)],
            "redis": ["gateService": lognormal(gate.mean - rtt, gate.sd), "readService": constant(read.mean - rtt)],
            "kafka": [
                "lingerMs": Int(linger), "batchService": constant(produceOne.mean - linger - rtt),
                "perMessageUs": round4(max(0, (produceBurst.mean - produceOne.mean) / Double(burst) * 1000)),
            ],
            "mongo": [
                "read": lognormal(mongoRead.mean, mongoRead.sd), "batchBase": constant(insertOne.mean),
                "perDocumentMs": round4(max(0.001, (insertMany.mean - insertOne.mean) / 499)),
            ],
            "http": ["cpu": cpu.mapValues { lognormal($0, $0 / 3) }],
            "payment": ["latency": constant(paymentLatencyMs > 0 ? paymentLatencyMs : 0.001)],
        ]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("\(name).json")
        let data = try JSONSerialization.data(withJSONObject: calibration, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: path))
        print(String(decoding: data, as: UTF8.self))
        say("wrote \(path)")
    }
}

func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
func fmt(_ x: Double) -> String { String(format: "%.3f", x) }

/// Where a calibration ran.
enum Machine {
    static func describe() -> String {
        let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(model)), Linux \(kernel), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, \(placement)"
    }

    /// Where the scripts put the server and the load generator (scripts/live-server.sh's FLASHDEAL_PIN).
    static var placement: String {
        ProcessInfo.processInfo.environment["FLASHDEAL_PIN"] == "split"
            ? "the API on core 0 and the load generator on core 1 (FLASHDEAL_PIN=split)" : "every process sharing every core"
    }
}
