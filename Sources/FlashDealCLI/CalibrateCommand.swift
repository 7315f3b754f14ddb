import ArgumentParser
import Domain
import Foundation
import Live
import LiveAPI
import LiveKafka
import LiveRuntime
import LiveTools
import LoadTest
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
            one-document and a 500-document insert_many. Then, against the running server at --target (on the same \
            Redis), open-model k6 phases at --rate requests/s (k6/calibrate.js: the deal list, the deal, an order, an \
            order and its polls, an order and its payment, an order paid and cancelled), reading the server's \
            process_cpu_seconds_total, k6's CPU and Redis's INFO cpu around each, and a thread's wake-up delay: each \
            operation's CPU per request by least squares over the phases. Writes experiments/calibration/<name>.json \
            (the service times), <name>-machine.json (the other processes' CPU per request and the wake-up delay: \
            what a scenario of a shared box includes) and <name>-phases.json (the raw phases), with the machine \
            and the placement it ran on in their descriptions.
            """)

    @Option(help: "The calibration's name: experiments/calibration/<name>.json.") var name = "measured"
    @Option(help: "Samples per measurement.") var samples = 300
    @OptionGroup var backends: BackendOptions
    @Option(help: "The payment provider's latency the server runs with, in ms.") var paymentLatencyMs = 0.0
    @Option(help: "The folder calibration files go in.") var directory = "experiments/calibration"
    @Option(help: "The live server the load phases run against (on the same backends).") var target: String
    @Option(help: "Requests a second in each operation's load phase.") var rate = 1000.0
    @Option(help: "Requests a second of the whole-journey phases (comma-separated): how CPU per request changes with the load.")
    var journeyRates = "250,500,1000,2000,3000"
    @Option(help: "Seconds each load phase lasts.") var phaseSeconds = 10
    @Option(help: "The k6 binary (default: .venv/flashdeal/k6, else FLASHDEAL_K6).") var k6: String?
    @Option(help: "The k6 script of the phases.") var script = "k6/calibrate.js"
    @Option(help: "The writer (serve --role writer) of the target's backends: its drain after the journeys gives the writer tier's CPU per message (<name>-writer.json).")
    var writer: String?

    func run() async throws {
        var configuration = try backends.backends(kafka: true)
        let (redis, kafka, mongo) = (configuration.redis.url ?? "", configuration.kafka.brokers ?? "", configuration.mongo.uri ?? "")
        guard (20...100_000).contains(samples) else { throw ValidationError("--samples must be between 20 and 100000") }
        guard (10...20_000).contains(rate), (3...600).contains(phaseSeconds) else { throw ValidationError("--rate must be 10…20000 and --phase-seconds 3…600") }
        let journeyRates = journeyRates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !journeyRates.isEmpty, journeyRates.allSatisfy({ (10...20_000).contains($0) }) else {
            throw ValidationError("--journey-rates takes rates of 10…20000 requests/s, comma-separated, not \(self.journeyRates)")
        }
        let (k6, secret, admin) = try await k6Setup(self.k6)
        let tag = "calibrate\(UInt32.random(in: 0...UInt32.max))"
        (configuration.redis.keyPrefix, configuration.kafka.topicPrefix, configuration.server.role) = (tag, tag, .api)
        var logger = Logger(label: "calibrate")
        logger.logLevel = .warning
        let composition: ShopServer.Composition
        do { composition = try await ShopServer.compose(configuration, logger: logger) } catch let error as StartupError { throw ValidationError("\(error)") }
        let probes = try await BackendProbes(redisURL: redis, kafkaBrokers: kafka, mongoURI: mongo, tag: tag)
        @Sendable func say(_ s: String) { FileHandle.standardError.write(Data("calibrate: \(s)\n".utf8)) }

        say("Redis round trip, read and stock gate")
        let ping = try await probes.time(samples) { try await probes.ping() }
        let read = try await probes.time(samples) { try await probes.read() }
        let operations = try await OperationProbes(shop: Shop(ports: composition.ports), tag: tag)
        let gate = try await probes.time(samples) { try await operations.reserveDirect() }
        say("Kafka produce")
        let produceOne = try await probes.time(max(20, samples / 10)) { try await probes.produce(1) }
        let burst = 2000
        let produceBurst = try await probes.time(3) { try await probes.produce(burst) }
        say("MongoDB read and inserts")
        let mongoRead = try await probes.time(max(20, samples / 5)) { try await probes.mongoRead() }
        let insertOne = try await probes.time(20) { try await probes.insert(1) }
        let insertMany = try await probes.time(5) { try await probes.insert(500) }
        let runner = LoadCalibrationRunner(
            target: target, k6: k6, script: script, admin: admin, secret: secret, rate: rate, phaseSeconds: phaseSeconds,
            journeyRates: journeyRates, workDirectory: ".run/calibrate", machine: RunMachine.describe(), placement: RunMachine.placement(),
            writer: writer, loadGeneratorApart: RunMachine.placementTag() == "split"
        ) { try await probes.redisCPU() }
        let load = try await runner.run { say($0) }
        probes.close()
        let fit = try load.fit()
        let cpu = fit.server

        let rtt = ping.mean
        func lognormal(_ ms: Double, _ sd: Double) -> [String: Any] { ["type": "lognormal", "meanMs": round4(max(0.001, ms)), "sdMs": round4(max(0.0005, sd))] }
        func constant(_ ms: Double) -> [String: Any] { ["type": "constant", "valueMs": round4(max(0.001, ms))] }
        let linger = 5.0
        let calibration: [String: Any] = [
            "description": "Measured by flashdeal calibrate on \(RunMachine.describe()), \(ISO8601DateFormatter().string(from: Date())), \(samples) samples each. "
                + "Redis PING \(fmt(ping.mean)) ms, HMGET \(fmt(read.mean)) ms, gate EVALSHA \(fmt(gate.mean)) ms; Kafka produce \(fmt(produceOne.mean)) ms (linger \(linger) ms), "
                + "\(burst) messages \(fmt(produceBurst.mean)) ms; MongoDB find \(fmt(mongoRead.mean)) ms, insert 1 \(fmt(insertOne.mean)) ms, insert 500 \(fmt(insertMany.mean)) ms. "
                + "CPU per request from the server's process_cpu_seconds_total over k6 phases at \(Int(rate)) requests/s "
                + "(least squares over one phase per operation; \(name)-phases.json has the phases, \(name)-machine.json how the CPU per request "
                + "changes with the load); each operation's spread from the shape of its time in the quieter half of the journey phases, the smallest (a shifted lognormal "
                + "through k6's 5th, 50th and 95th percentiles).",
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
            "http": ["cpu": Dictionary(uniqueKeysWithValues: cpu.map { op, ms in (op, lognormal(ms, ms * (fit.spread[op] ?? LoadCalibration.defaultSpread))) })],
            "payment": ["latency": constant(paymentLatencyMs > 0 ? paymentLatencyMs : 0.001)],
        ]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let machine: [String: Any] = [
            "description": "The processes beside the server on \(RunMachine.describe()), measured by flashdeal calibrate at \(Int(rate)) requests/s: "
                + "the CPU everything on the cores but the server spends per request of each operation (demand: k6, Redis, the kernel's network work, the hypervisor; /proc/stat less the server's own), and a thread's wake-up delay from a 1 ms sleep on the quiet machine "
                + "(mean \(fmt(load.wakeUpQuiet.meanUs)) µs, P99 \(fmt(load.wakeUpQuiet.p99Us)) µs; over the journey at \(Int(journeyRates.last ?? 0)) requests/s mean "
                + "\(fmt(load.journeys.last?.wakeUp.meanUs ?? 0)) µs, P99 \(fmt(load.journeys.last?.wakeUp.p99Us ?? 0)) µs, which the time-shared cores model themselves), and the CPU per request of the whole "
                + "journey at \(journeyRates.map { String(Int($0)) }.joined(separator: ", ")) requests/s against the per-operation figures (cpuByRate: "
                + "the server's and the others' multiplier by the tier's request rate), the server's event loops (one per core it may run on) and the others' threads (k6's one per core, Redis's one). "
                + "Include it in a scenario of a shared box.",
            "http": ["machine": [
                "wakeUp": lognormal(load.wakeUpQuiet.meanUs / 1000, load.wakeUpQuiet.sdUs / 1000),
                // The server's event loops: NIO's shared group has one per core the process may run on,
                // which calibrate, started with the same placement, sees as its active processors.
                "eventLoops": ProcessInfo.processInfo.activeProcessorCount,
                // The others' threads on those cores: k6's Go scheduler runs goroutines on one
                // thread per core (unless k6 has cores of its own), and Redis on one.
                "otherThreads": (runner.loadGeneratorApart ? 0 : ProcessInfo.processInfo.activeProcessorCount) + 1,
                "cpuByRate": fit.byRate.map { ["rate": round4($0.rate), "server": round4($0.server), "others": round4($0.others)] },
                "demand": fit.others.mapValues { lognormal($0, $0 / 3) },
            ]],
        ]
        try write(calibration, to: "\(name).json")
        try write(machine, to: "\(name)-machine.json")
        if let drain = load.writerDrain {
            guard let cost = load.writerCost else {
                throw ValidationError("the writer drained only \(Int(drain.messages)) messages after the journeys: too few to measure its CPU per message")
            }
            try write([
                "description": "The writer tier (outbox relay, broker, the writer's consumer, MongoDB) in the idle scheduling class on \(RunMachine.describe()), "
                    + "measured by flashdeal calibrate: its catch-up after the journeys on the otherwise idle machine (the journeys run first, "
                    + "on the fresh backends the server started on, so the backlog is theirs alone, written into an empty MongoDB) wrote \(Int(drain.messages)) Kafka messages "
                    + "in \(fmt(drain.drainSeconds ?? 0)) s, the machine busy \(fmt(cost.cores)) cores beyond its quiet level: \(fmt(cost.cpuPerMessageMs)) ms of CPU "
                    + "per message. Include it (after \(name)-machine.json) in a scenario of a shared box whose writer runs beside the server.",
                "http": ["machine": ["writer": ["cpuPerMessage": constant(cost.cpuPerMessageMs), "cores": round4(max(0.01, cost.cores))]]],
            ], to: "\(name)-writer.json")
        }
        let phases = (directory as NSString).appendingPathComponent("\(name)-phases.json")
        try writePrettyJSON(load, to: phases)
        say("wrote \(phases)")
    }

    func write(_ object: [String: Any], to file: String) throws {
        let path = (directory as NSString).appendingPathComponent(file)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: path))
        print(String(decoding: data, as: UTF8.self))
        FileHandle.standardError.write(Data("calibrate: wrote \(path)\n".utf8))
    }
}

func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
