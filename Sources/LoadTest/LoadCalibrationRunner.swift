import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs `flashdeal calibrate`'s load phases (`k6/calibrate.js`) against a live server on fresh
/// deals and collects ``LoadCalibration``: each phase's requests by operation (k6's summary), the
/// server's CPU (its `process_cpu_seconds_total` from `/metrics`, before and after), k6's CPU (its own
/// rusage, from `wait4` on it), Redis's (`redisCPU`, read by the caller), a
/// quiet baseline for each, and the wake-up probe's lateness, quiet and under load.
public struct LoadCalibrationRunner: Sendable {
    public var target: String
    public var k6: String
    public var script: String
    public var admin: String
    public var secret: String
    /// Requests a second in every phase.
    public var rate: Double
    public var phaseSeconds: Int
    /// Requests a second of the journey phases.
    public var journeyRates: [Double]
    public var workDirectory: String
    /// Redis's CPU seconds so far (`INFO cpu`: used_cpu_user + used_cpu_sys).
    public var redisCPU: @Sendable () async throws -> Double
    public var machine: String
    public var placement: String
    /// The writer's address: with one, the tier's drain after the last journey phase is measured.
    public var writer: String?
    /// k6 runs on cores of its own (`RunMachine.placementTag() == "split"`).
    public var loadGeneratorApart: Bool

    public static let phases = ["list", "view", "place", "status", "pay", "refund"]

    public init(
        target: String, k6: String, script: String, admin: String, secret: String, rate: Double, phaseSeconds: Int, journeyRates: [Double], workDirectory: String,
        machine: String, placement: String, writer: String? = nil, loadGeneratorApart: Bool = false,
        redisCPU: @escaping @Sendable () async throws -> Double
    ) {
        self.writer = writer
        self.loadGeneratorApart = loadGeneratorApart
        self.target = target.hasSuffix("/") ? String(target.dropLast()) : target
        self.k6 = k6
        self.script = script
        self.admin = admin
        self.secret = secret
        self.rate = rate
        self.phaseSeconds = phaseSeconds
        self.journeyRates = journeyRates
        self.workDirectory = workDirectory
        self.machine = machine
        self.placement = placement
        self.redisCPU = redisCPU
    }

    /// The quiet window's one-second slices.
    static let quietSlices = 5

    public func run(log: @Sendable (String) -> Void = { _ in }) async throws -> LoadCalibration {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let deal = try await seed()
        let probe = WakeUpProbe()
        probe.start()
        defer { probe.stop() }

        log("quiet baseline (\(Self.quietSlices) slices of a second, the quietest kept) and k6's cost of a run with next to no requests")
        _ = probe.take()
        var slices: [LoadCalibration.QuietSlice] = [], wakeUps: [[Double]] = []
        // Back to back: each reading ends one slice and starts the next.
        var last = try await reading()
        for _ in 0..<Self.quietSlices {
            try await Task.sleep(for: .seconds(1))
            let now = try await reading()
            let machine = now.machine - last.machine
            slices.append(LoadCalibration.QuietSlice(
                seconds: now.at.timeIntervalSince(last.at), server: now.server - last.server, redis: now.redis - last.redis,
                kernel: machine.interrupts + machine.steal, machine: machine.busy))
            wakeUps.append(probe.take())
            last = now
        }
        let empty = try await phase("view", deal: deal, rate: 1, seconds: 1, probe: probe)
        guard let (baseline, quietest) = LoadCalibration.Baseline.quietest(slices, loadGeneratorRun: empty.loadGenerator) else {
            throw LoadTestError("calibration: the quiet window measured nothing")
        }
        // The quiet wake-up delay too from the quietest second.
        let quietWakeUp = wakeUps[quietest]

        // The journeys first, on the fresh backends the server started on: the writer's catch-up
        // after them is a sale's backlog written into an empty MongoDB, as every measured run's
        // (each starts afresh). Behind the operation phases' ~75k messages SecantusDB took 1.99 ms
        // of machine CPU a message where drain-2000's fresh start took 1.13.
        var journeys: [LoadCalibration.Phase] = []
        for journeyRate in journeyRates {
            log("the whole journey: \(Int(journeyRate)) requests/s for \(phaseSeconds) s")
            journeys.append(try await phase("journey", deal: deal, rate: journeyRate, seconds: phaseSeconds, probe: probe))
        }
        // The journeys left the writer tier (idle class) behind: its catch-up on the idle machine,
        // before the operation phases, which then run with the writer as idle as in the journeys.
        let drain = try await writerCatchUp("the writer tier's catch-up after the journeys", log: log)
        var phases: [LoadCalibration.Phase] = []
        for name in Self.phases {
            log("phase \(name): \(Int(rate)) requests/s for \(phaseSeconds) s")
            phases.append(try await phase(name, deal: deal, rate: rate, seconds: phaseSeconds, probe: probe))
        }
        return LoadCalibration(
            rate: rate, phases: phases, journeys: journeys, baseline: baseline, wakeUpQuiet: .init(samples: quietWakeUp),
            machine: machine, placement: placement, writerDrain: drain, loadGeneratorApart: loadGeneratorApart, deal: deal)
    }

    /// The writer, given one, writing what waits with no load running, until nothing does (nil:
    /// no writer).
    func writerCatchUp(_ note: String, log: (String) -> Void) async throws -> WriterDrain? {
        guard let writer else { return nil }
        log(note)
        return try await WriterProbe(writer: writer).watch()
    }

    /// A deal of its own with stock for every phase, no buyer rules, started.
    func seed() async throws -> String {
        let client = AdminClient(target: target, authorization: admin)
        let tag = "calibrate-\(UInt32.random(in: 0...UInt32.max))"
        try await client.mutation(#"mutation($in: CreateProductInput!) { createProduct(input: $in) { __typename } }"#,
                                  ["in": ["id": tag, "name": "Calibration item", "description": "flashdeal calibrate"]], expect: "ProductCreated")
        let iso = ISO8601DateFormatter()
        try await client.mutation(#"mutation($in: ScheduleDealInput!) { scheduleDeal(input: $in) { __typename } }"#, ["in": [
            "id": tag, "productId": tag, "price": 9900, "startsAt": iso.string(from: Date().addingTimeInterval(-60)),
            "endsAt": iso.string(from: Date().addingTimeInterval(6 * 3600)), "perUserLimit": 2, "stock": 10_000_000,
            "reservationTtlSeconds": 600, "paymentWindowSeconds": 300, "reservationCap": 0, "cancelCoolDownSeconds": 0,
        ]], expect: "DealUpdated")
        try await client.mutation(#"mutation($id: ID!) { startDeal(id: $id) { __typename } }"#, ["id": tag], expect: "DealUpdated")
        return tag
    }

    func phase(_ name: String, deal: String, rate: Double, seconds: Int, probe: WakeUpProbe) async throws -> LoadCalibration.Phase {
        let summary = (workDirectory as NSString).appendingPathComponent("\(name)-\(Int(rate)).json")
        _ = probe.take()
        let before = try await reading()
        let k6CPU = try LoadTestRunner.k6(k6, [
            "run", "--quiet", "--summary-export", summary, "-e", "TARGET=\(target)", "-e", "DEAL=\(deal)", "-e", "PHASE=\(name)",
            "-e", "RATE=\(rate)", "-e", "DURATION=\(seconds)s", "-e", "SECRET=\(secret)", script,
        ])
        let wall = Date().timeIntervalSince(before.at)
        let after = try await reading()
        let machine = after.machine - before.machine
        return .init(
            name: name, seconds: wall, requests: try Self.requests(summary: summary), server: after.server - before.server, loadGenerator: k6CPU,
            redis: after.redis - before.redis,
            machine: machine.busy, interrupts: machine.interrupts, steal: machine.steal, wakeUp: .init(samples: probe.take()),
            latency: try Self.latency(summary: summary))
    }

    /// Each operation's time quantiles from k6's summary export (`http_req_duration{operation:…}`).
    static func latency(summary path: String) throws -> [String: LoadCalibration.Quantiles] {
        var quantiles: [String: LoadCalibration.Quantiles] = [:]
        for (op, value) in try tagged("http_req_duration", summary: path) {
            guard let p5 = (value["p(5)"] as? NSNumber)?.doubleValue, let p50 = (value["med"] as? NSNumber)?.doubleValue,
                  let p95 = (value["p(95)"] as? NSNumber)?.doubleValue else { continue }
            quantiles[op] = .init(p5: p5, p50: p50, p95: p95)
        }
        return quantiles
    }

    /// A metric's series by operation in k6's summary export (`NAME{operation:…}`).
    static func tagged(_ name: String, summary path: String) throws -> [String: [String: Any]] {
        guard let data = FileManager.default.contents(atPath: path),
              let metrics = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["metrics"] as? [String: Any]
        else { throw LoadTestError("k6 wrote no summary at \(path)") }
        let prefix = "\(name){operation:"
        var series: [String: [String: Any]] = [:]
        for (key, value) in metrics where key.hasPrefix(prefix) {
            series[String(key.dropFirst(prefix.count).dropLast())] = value as? [String: Any] ?? [:]
        }
        return series
    }

    /// Requests by operation from k6's summary export (`http_reqs{operation:…}` counts).
    static func requests(summary path: String) throws -> [String: Double] {
        try tagged("http_reqs", summary: path).mapValues { ($0["count"] as? NSNumber)?.doubleValue ?? 0 }
    }

    /// The server's `process_cpu_seconds_total`.
    func serverCPU() async throws -> Double { try await MetricsScrape.processCPU(target) }

    /// The server's, Redis's and every core's CPU so far, and when they were read.
    func reading() async throws -> (server: Double, redis: Double, machine: MachineCPU, at: Date) {
        (try await serverCPU(), try await redisCPU(), MachineCPU.now(), Date())
    }

}

/// Every core's CPU time so far, from /proc/stat's first line (seconds): busy (everything but
/// idle and I/O wait), and of it the kernel's interrupt work (irq, softirq: the loopback
/// network's packets) and steal (time the hypervisor ran something else).
struct MachineCPU {
    var busy: Double
    var interrupts: Double = 0
    var steal: Double

    static func now() -> MachineCPU {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return MachineCPU(busy: 0, steal: 0) }
        // user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user).
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return MachineCPU(busy: 0, steal: 0) }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return MachineCPU(busy: (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / hz, interrupts: (ticks[5] + ticks[6]) / hz, steal: ticks[7] / hz)
    }

    static func - (a: MachineCPU, b: MachineCPU) -> MachineCPU {
        MachineCPU(busy: a.busy - b.busy, interrupts: a.interrupts - b.interrupts, steal: a.steal - b.steal)
    }
}

/// A thread that sleeps 1 ms at a time and records how late it woke (microseconds): the
/// scheduler's wake-up delay as a thread on this machine sees it.
final class WakeUpProbe: @unchecked Sendable {
    // Safe: `samples` and `running` are read and written under `lock`.
    private let lock = NSLock()
    private var samples: [Double] = []
    private var running = false
    private var thread: Thread?

    func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            var request = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            while lock.withLock({ running }) {
                let start = Self.now()
                nanosleep(&request, nil)
                let late = (Self.now() - start) / 1000 - 1000
                lock.withLock { samples.append(max(0, late)) }
            }
        }
        thread.start()
        self.thread = thread
    }

    /// The samples since the last take.
    func take() -> [Double] { lock.withLock { defer { samples.removeAll() }; return samples } }

    func stop() { lock.withLock { running = false } }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
    }
}
