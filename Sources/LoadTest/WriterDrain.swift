import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import Sim

/// The writer tier seen from its `/metrics`: what waits (the outbox's entries and the Kafka lag),
/// what it has written (`flashdeal_writer_messages_written_total`), and the machine's busy time
/// (/proc/stat) at the same instant, sampled every `interval` while a load runs and until the
/// backlog is gone. From the samples: the peak backlog, when the last write happened (the drain),
/// and, for a drain started with a backlog on an otherwise idle machine, the tier's CPU per message
/// and how many cores it used at once (`flashdeal calibrate`).
public struct WriterDrain: Sendable, Codable, Hashable {
    public struct Sample: Sendable, Codable, Hashable {
        /// Seconds since the first sample.
        public var at: Double
        /// Messages written and committed so far.
        public var written: Double
        /// Kafka messages behind the high watermark, over the writer's partitions.
        public var lag: Double
        /// Entries waiting in the outbox and the deals' journals.
        public var outbox: Double
        /// Every core's busy seconds so far.
        public var busy: Double

        public init(at: Double, written: Double, lag: Double, outbox: Double, busy: Double) {
            self.at = at
            self.written = written
            self.lag = lag
            self.outbox = outbox
            self.busy = busy
        }

        public var backlog: Double { lag + outbox }
    }

    public var samples: [Sample]
    /// Seconds after the first sample when the load stopped (nil: no load in the window).
    public var loadEnd: Double?

    public init(samples: [Sample], loadEnd: Double?) {
        self.samples = samples
        self.loadEnd = loadEnd
    }

    /// The largest backlog seen (outbox entries plus Kafka lag).
    public var peakBacklog: Double { samples.map(\.backlog).max() ?? 0 }
    public var peakLag: Double { samples.map(\.lag).max() ?? 0 }
    public var messages: Double { (samples.last?.written ?? 0) - (samples.first?.written ?? 0) }

    /// The sample at which the last message was written (the counter's last rise).
    var lastWrite: Sample? {
        guard let last = samples.last else { return nil }
        return samples.first { $0.written >= last.written }
    }

    /// Seconds from the end of the load until the last message was written (0 when the writer
    /// kept up).
    public var drainSeconds: Double? {
        guard let loadEnd, let lastWrite else { return nil }
        return max(0, lastWrite.at - loadEnd)
    }

    /// Nothing waits and nothing has been written for `quiet` seconds: the lag gauge is renewed
    /// every couple of seconds, so a zero is believed once the counter has stood still that long.
    public static func drained(_ samples: [Sample], quiet: Double = 3) -> Bool {
        guard let last = samples.last, last.backlog == 0 else { return false }
        guard let rise = samples.lastIndex(where: { $0.written < last.written }) else { return last.at - (samples.first?.at ?? 0) >= quiet }
        return last.at - samples[rise + 1].at >= quiet
    }

    /// The tier's cost, from a drain that started with a backlog on a machine doing nothing else:
    /// the machine's busy time from the first sample to the last write, less `idleBusyPerSecond`
    /// (what the machine does quiet), per message written, and per second (the cores it used at
    /// once). Nil when fewer than `minimum` messages were written.
    public func cost(idleBusyPerSecond: Double, minimum: Double = 1000) -> (cpuPerMessageMs: Double, cores: Double)? {
        guard let first = samples.first, let end = lastWrite, end.at > first.at else { return nil }
        let written = end.written - first.written
        guard written >= minimum else { return nil }
        let seconds = end.at - first.at
        let busy = max(0, end.busy - first.busy - idleBusyPerSecond * seconds)
        return (busy / written * 1000, busy / seconds)
    }

    /// Predicted (the simulator's replications: the Kafka lag peak, the time from the last arrival
    /// until the consumers had caught up, the messages written) against this measurement, as Markdown
    /// with the ±`tolerance` target.
    public func markdown(predicted runs: [RunResult], tolerance: Double = 0.20) -> String {
        func f(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : "%.1f", x) }
        func row(_ name: String, _ values: [Double], _ measured: Double?) -> String {
            let n = Double(max(1, values.count)), mean = values.reduce(0, +) / n
            let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, n - 1)).squareRoot()
            let range = "\(f(values.min() ?? 0))–\(f(values.max() ?? 0))"
            guard let measured else { return "| \(name) | \(f(mean)) | \(range) | – | – | – |\n" }
            let error = measured > 0 ? (mean - measured) / measured : (mean == 0 ? 0 : .infinity)
            let holds = abs(error) <= tolerance
            let shown = error.isFinite ? String(format: "%+.0f%%", error * 100) : "n/a"
            return "| \(name) | \(f(mean)) ± \(f(sd)) | \(range) | \(f(measured)) | \(shown) | ±\(Int(tolerance * 100))% \(holds ? "✓" : "✗") |\n"
        }
        var out = "| metric | predicted (mean ± sd) | predicted range | measured | error | target |\n|---|---|---|---|---|---|\n"
        out += row("messages waiting, peak", runs.map { Double($0.kafka.maxLag) }, peakBacklog)
        out += row("drain after the load (s)", runs.compactMap(\.kafka.caughtUpSeconds), drainSeconds)
        // What the writer had written when it caught up: the sale's backlog, on both sides (the
        // live watch stops once nothing waits; the reservations that expire a TTL later, and their
        // events, come after it).
        out += row("messages written by then", runs.map { Double($0.kafka.caughtUpConsumed ?? $0.kafka.consumed) }, messages)
        return out
    }
}

/// A process's `/metrics`, as Prometheus's text format has it.
public struct MetricsScrape: Sendable {
    public var text: String

    public init(text: String) { self.text = text }

    /// `GET base/metrics`; `option` names where `base` came from, for the error.
    static func fetch(_ base: String, option: String) async throws -> MetricsScrape {
        guard let url = URL(string: (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/metrics") else {
            throw LoadTestError("\(option) \(base) is not a URL")
        }
        let (body, _) = try await URLSession.shared.data(from: url)
        return MetricsScrape(text: String(decoding: body, as: UTF8.self))
    }

    /// The CPU seconds the server at `target` has used (its `process_cpu_seconds_total`).
    static func processCPU(_ target: String) async throws -> Double {
        guard let value = try await fetch(target, option: "--target").sum("process_cpu_seconds_total") else {
            throw LoadTestError("\(target)/metrics has no process_cpu_seconds_total")
        }
        return value
    }

    /// The sum of a series' samples over its labels; nil when the scrape has none of it.
    public func sum(_ name: String) -> Double? {
        text.split(separator: "\n").reduce(nil) { total, line in
            guard line.hasPrefix(name), let next = line.dropFirst(name.count).first, next == " " || next == "{",
                  let value = Double(line.split(separator: " ").last ?? "") else { return total }
            return (total ?? 0) + value
        }
    }
}

/// Reads the writer's `/metrics` and the machine's busy time.
public struct WriterProbe: Sendable {
    public var writer: String

    public init(writer: String) { self.writer = writer }

    /// One sample, `at` seconds on the caller's clock.
    public func sample(at: Double) async throws -> WriterDrain.Sample {
        let scrape = try await MetricsScrape.fetch(writer, option: "--writer")
        guard let written = scrape.sum("flashdeal_writer_messages_written_total") else {
            throw LoadTestError("\(writer)/metrics has no flashdeal_writer_messages_written_total: is it a writer (serve --role writer)?")
        }
        return WriterDrain.Sample(
            at: at, written: written, lag: scrape.sum("flashdeal_writer_kafka_lag_messages") ?? 0,
            outbox: scrape.sum("flashdeal_outbox_entries") ?? 0, busy: MachineCPU.now().busy)
    }

    /// Samples every `interval` while `load` runs, then until the writer has drained (or `limit`
    /// seconds after the load).
    public func watch(
        interval: Duration = .milliseconds(500), limit: Double = 900, load: @Sendable () async throws -> Void = {}
    ) async throws -> WriterDrain {
        let start = Date()
        func now() -> Double { Date().timeIntervalSince(start) }
        let collected = SampleBox()
        let sampler = Task {
            while !Task.isCancelled {
                if let sample = try? await sample(at: now()) { collected.append(sample) }
                try? await Task.sleep(for: interval)
            }
        }
        _ = try await sample(at: now())  // fails early when the writer does not answer
        do { try await load() } catch { sampler.cancel(); throw error }
        let loadEnd = now()
        while now() - loadEnd < limit, !WriterDrain.drained(collected.all) { try await Task.sleep(for: interval) }
        sampler.cancel()
        _ = await sampler.result
        guard WriterDrain.drained(collected.all) else {
            throw LoadTestError("the writer had not drained \(Int(limit)) s after the load (\(Int(collected.all.last?.backlog ?? 0)) waiting)")
        }
        return WriterDrain(samples: collected.all, loadEnd: loadEnd)
    }
}

/// The sampler's samples, appended from its task.
final class SampleBox: @unchecked Sendable {
    // Safe: `samples` is read and written under `lock`.
    private let lock = NSLock()
    private var samples: [WriterDrain.Sample] = []
    func append(_ sample: WriterDrain.Sample) { lock.withLock { samples.append(sample) } }
    var all: [WriterDrain.Sample] { lock.withLock { samples } }
}
