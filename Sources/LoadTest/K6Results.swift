public import Sim
import Foundation

/// Reads k6's JSON output (`k6 run --out json=FILE`: one JSON object per line) into a measured
/// `RunResult`, the shape the simulator predicts, so the two compare field by field. Requests are
/// `http_req_duration` points tagged with their `operation` (the simulator's operation names);
/// faults, sold-out and over-the-limit answers, placed and paid orders come from the scripts' own
/// metrics (`k6/lib/shop.js`). What k6 cannot see (utilisation inside the server, Kafka lag) is
/// left empty, and `counters` (read from the server after the run) fill the stock checks.
public struct K6Results {
    public struct DealCounters: Sendable, Hashable {
        public var total: Int
        public var available: Int
        public var reserved: Int
        public var sold: Int
        public init(total: Int, available: Int, reserved: Int, sold: Int) {
            self.total = total
            self.available = available
            self.reserved = reserved
            self.sold = sold
        }
    }

    struct Line: Decodable {
        var metric: String
        var data: Point
        struct Point: Decodable {
            var time: String
            var value: Double
            var tags: [String: String]?
        }
    }

    var start: Double?
    var end = 0.0
    var points: [(time: Double, line: Line)] = []

    public init() {}

    /// Reads the file in chunks, keeping only the points the result needs.
    public static func read(path: String) throws -> K6Results {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw LoadTestError("cannot read k6 output \(path)") }
        defer { try? handle.close() }
        var results = K6Results()
        var pending = Data()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            pending.append(chunk)
            var lineStart = pending.startIndex
            while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                try results.add(pending[lineStart..<newline])
                lineStart = pending.index(after: newline)
            }
            pending = Data(pending[lineStart...])
        }
        if !pending.isEmpty { try results.add(pending) }
        return results
    }

    static let kept = ["http_req_duration", "flashdeal_", "iterations", "dropped_iterations"].map { Array("{\"metric\":\"\($0)".utf8) }
    static let pointMarker = Array("\"type\":\"Point\"".utf8)

    mutating func add(_ line: Data) throws {
        guard Self.kept.contains(where: { line.starts(with: $0) }), line.firstRange(of: Self.pointMarker) != nil else { return }
        let decoded = try JSONDecoder().decode(Line.self, from: line)
        guard let time = Self.seconds(decoded.data.time) else { throw LoadTestError("k6 point with an unreadable time \(decoded.data.time)") }
        start = min(start ?? time, time)
        end = max(end, time)
        points.append((time, decoded))
    }

    /// RFC 3339 with fractional seconds and a `Z` or `±hh:mm` offset, as seconds since the epoch.
    public static func seconds(_ text: String) -> Double? {
        let u = Array(text.utf8)
        func int(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var v = 0
            for c in u[from..<(from + count)] {
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = int(0, 4), let month = int(5, 2), let day = int(8, 2), let hour = int(11, 2), let minute = int(14, 2),
            let second = int(17, 2)
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard let h = int(i + 1, 2), let m = int(i + 4, 2) else { return nil }
            offset = (h * 3600 + m * 60) * (u[i] == UInt8(ascii: "+") ? 1 : -1)
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// The measured run, in the simulator's shape.
    public func result(scenario: Scenario, counters: [DealCounters] = [], label: String = "k6") -> RunResult {
        let origin = start ?? 0
        let duration = max(0.001, end - origin)
        let seconds = Int(duration.rounded(.up)) + 1
        var byOperation: [String: LatencyRecorder] = [:]
        var overall = LatencyRecorder()
        var perSecond = (0..<seconds).map { _ in LatencyRecorder(highestMicroseconds: 60_000_000, precise: false) }
        var requests = [Double](repeating: 0, count: seconds), errors = [Double](repeating: 0, count: seconds)
        var faults: [String: Int] = [:], business: [String: Int] = [:]
        var iterations = 0, dropped = 0, placed = 0, paid = 0, soldOut = 0, limit = 0
        var soldOutAt: Double?
        for (time, line) in points {
            let second = min(seconds - 1, max(0, Int(time - origin)))
            let operation = line.data.tags?["operation"] ?? "other"
            switch line.metric {
            case "http_req_duration":
                let ns = Int64(line.data.value * 1e6)
                byOperation[operation, default: LatencyRecorder()].record(ns)
                overall.record(ns)
                perSecond[second].record(ns)
                requests[second] += 1
            case "flashdeal_faults" where line.data.value > 0:
                faults[operation, default: 0] += 1
                errors[second] += 1
            case "flashdeal_sold_out":
                soldOut += Int(line.data.value)
                business["placeOrder", default: 0] += Int(line.data.value)
                soldOutAt = min(soldOutAt ?? (time - origin), time - origin)
            case "flashdeal_limit_reached":
                limit += Int(line.data.value)
                business["placeOrder", default: 0] += Int(line.data.value)
            case "flashdeal_orders_placed": placed += Int(line.data.value)
            case "flashdeal_orders_paid": paid += Int(line.data.value)
            case "iterations": iterations += Int(line.data.value)
            case "dropped_iterations": dropped += Int(line.data.value)
            default: break
            }
        }
        func stats(_ name: String, _ l: LatencyRecorder, errors: Int, business: Int) -> RunResult.OperationStats {
            RunResult.OperationStats(
                name: name, requests: l.count, ok: l.count - errors - business, business: business, errors: errors, shed: 0, timeouts: 0,
                p50Ms: l.percentileMs(50), p95Ms: l.percentileMs(95), p99Ms: l.percentileMs(99), maxMs: l.maxMs, meanMs: l.meanMs)
        }
        let totalFaults = faults.values.reduce(0, +)
        let operations = Scenario.Operation.allCases.map(\.name).compactMap { name in
            byOperation[name].map { stats(name, $0, errors: faults[name] ?? 0, business: business[name] ?? 0) }
        }
        let total = counters.reduce(0) { $0 + $1.total }, sold = counters.reduce(0) { $0 + $1.sold }
        let reserved = counters.reduce(0) { $0 + $1.reserved }, available = counters.reduce(0) { $0 + $1.available }
        let rps = Double(overall.count) / duration
        return RunResult(
            scenario: scenario.name, scenarioHash: scenario.hash, seed: 0, codeVersion: "\(Simulator.codeVersion)+\(label)",
            arrivalProcess: "k6 ramping-arrival-rate (evenly spaced)", simulatedSeconds: duration,
            arrivalSeconds: Double(scenario.traffic.duration) / 1e9,
            throughput: .init(iterations: iterations, requests: overall.count, offeredRps: rps, achievedRps: rps, peakOfferedRps: requests.max() ?? 0),
            overall: stats("all", overall, errors: totalFaults, business: soldOut + limit), operations: operations,
            rates: .init(
                errorRate: overall.count > 0 ? Double(totalFaults) / Double(overall.count) : 0,
                shedRate: iterations + dropped > 0 ? Double(dropped) / Double(iterations + dropped) : 0, timeoutRate: 0),
            orders: .init(
                accepted: placed, paid: paid, cancelled: 0, refunded: 0, expired: 0, declined: 0, latePaymentsRefunded: 0, duplicates: 0,
                soldOutAnswers: soldOut, limitAnswers: limit, soldOutAtSeconds: soldOutAt, totalUnits: total, soldUnits: sold,
                oversoldUnits: max(0, sold + reserved - total), conservationHolds: available + reserved + sold == total,
                perUserLimitHolds: true, unresolvedReservations: reserved),
            resources: [],
            bottleneck: .init(resource: "n/a", utilisation: 0, reason: "a measured run does not see inside the server"),
            kafka: .init(produced: 0, consumed: 0, maxLag: 0, maxLagAtSeconds: 0, drainSeconds: 0),
            replicas: .init(initial: 1, max: 1, final: 1, firstScaleUpAtSeconds: nil),
            series: .init(
                offeredRps: requests, achievedRps: requests, errors: errors, shed: [Double](repeating: 0, count: seconds),
                timeouts: [Double](repeating: 0, count: seconds), p50Ms: perSecond.map { $0.percentileMs(50) },
                p95Ms: perSecond.map { $0.percentileMs(95) }, p99Ms: perSecond.map { $0.percentileMs(99) }, kafkaLag: [], available: [],
                reserved: [], sold: [], readyReplicas: [], utilisation: [:],
                p95Ms5s: LatencyRecorder.windows(perSecond, seconds: seconds)),
            eventsProcessed: points.count, timing: nil)
    }
}
