import Foundation
public import Prometheus
import Synchronization
import LiveRuntime

/// Whether a writer does its work, decided from what it sees every few seconds: the partitions
/// its group assigned it, how far they are behind, whether its topics exist, and when it last
/// wrote a batch. A state machine over instants the caller passes: tested without a broker.
///
/// Not ready: holding no partition for `assignmentGrace` while its topics have partitions (a group
/// that never assigns; or more writers than partitions, where an extra writer does nothing), or
/// holding partitions with messages waiting and writing nothing for `stallAfter`. A writer whose
/// topics do not exist yet (no order placed) is ready: there is nothing to write. Readiness says
/// so; liveness never looks at a backend.
public struct WriterProgress: Sendable, Hashable {
    public var assignmentGrace: Duration
    public var stallAfter: Duration
    /// The last time a batch was written.
    private(set) var lastProgress: ContinuousClock.Instant?
    private var unassignedSince: ContinuousClock.Instant?
    /// Since when messages have waited without a break (the lag seen above zero).
    private var waitingSince: ContinuousClock.Instant?

    public init(assignmentGrace: Duration = .seconds(30), stallAfter: Duration = .seconds(30)) {
        self.assignmentGrace = assignmentGrace
        self.stallAfter = stallAfter
    }

    public enum Verdict: Sendable, Hashable, CustomStringConvertible {
        case ready
        /// Waiting for the group's assignment, within the grace.
        case joining
        /// No partition past the grace, while the topics have some.
        case unassigned
        /// Messages wait (`lag`) and nothing was written for `stallAfter`.
        case stalled(lag: Int64)

        public var isReady: Bool { self == .ready }
        public var description: String {
            switch self {
            case .ready: "ready"
            case .joining: "joining its consumer group"
            case .unassigned: "the consumer group assigns it no partition"
            case .stalled(let lag): "\(lag) messages wait and it has written nothing"
            }
        }
    }

    /// A batch was written at `now`.
    public mutating func progressed(at now: ContinuousClock.Instant) { lastProgress = now }

    /// What the writer sees at `now`: `partitions` assigned, `lag` messages behind on them (nil:
    /// not known yet), and whether its topics have partitions at all.
    public mutating func observe(at now: ContinuousClock.Instant, partitions: Int, lag: Int64?, topicsExist: Bool) -> Verdict {
        guard partitions > 0 else {
            waitingSince = nil
            guard topicsExist else { unassignedSince = nil; return .ready }
            let since = unassignedSince ?? now
            unassignedSince = since
            return now - since < assignmentGrace ? .joining : .unassigned
        }
        unassignedSince = nil
        guard let lag, lag > 0 else { waitingSince = nil; return .ready }
        let waiting = waitingSince ?? now
        waitingSince = waiting
        let since = lastProgress.map { max($0, waiting) } ?? waiting
        return now - since >= stallAfter ? .stalled(lag: lag) : .ready
    }
}

/// A writer's progress and its last verdict, shared by its run loop and the readiness check.
final class WriterWatch: Sendable {
    let state: Mutex<(progress: WriterProgress, verdict: WriterProgress.Verdict)>
    init(_ progress: WriterProgress) { state = Mutex((progress, .joining)) }
    func progressed(at instant: ContinuousClock.Instant) { state.withLock { $0.progress.progressed(at: instant) } }
    var verdict: WriterProgress.Verdict { state.withLock { $0.verdict } }
}

extension EventConsumerService {
    /// This writer's last verdict (readiness's `consumer` check; the run loop renews it every
    /// couple of seconds).
    public func verdict() -> WriterProgress.Verdict { watch.verdict }

    /// Observes the consumer, renews the verdict, and logs and counts a change.
    func checkProgress() async {
        let consumer = self.consumer
        let assignment = (try? await BlockingCalls.kafka { consumer.assignment(timeoutMs: 1000) }) ?? []
        let lags = assignment.compactMap(\.lag)
        let lag: Int64? = lags.isEmpty ? nil : lags.reduce(0, +)
        // Only a writer holding nothing asks the broker whether its topics exist (a metadata call).
        let topicsExist = assignment.isEmpty ? ((try? await BlockingCalls.kafka { try consumer.subscribedPartitions(timeoutMs: 2000) }) ?? 0) > 0 : true
        let (previous, verdict) = watch.state.withLock { state in
            let previous = state.verdict
            state.verdict = state.progress.observe(at: .now, partitions: assignment.count, lag: lag, topicsExist: topicsExist)
            return (previous, state.verdict)
        }
        metrics?.ready(verdict.isReady)
        guard verdict != previous else { return }
        switch verdict {
        case .ready, .joining:
            logger.info("writer \(verdict)")
        case .unassigned, .stalled:
            metrics?.stalled()
            logger.error("writer not ready: \(verdict)", metadata: ["flashdeal.writer.verdict": "\(verdict)"])
            // A consumer that holds partitions but stopped getting their messages (seen on tansu
            // after the broker was frozen for 30 s) is replaced by a fresh member; the old one
            // leaves the group. Not one the group assigns nothing: an extra writer would make the
            // group rebalance every half minute.
            guard case .stalled = verdict else { return }
            do {
                if try slot.renew() {
                    watch.state.withLock { $0 = (WriterProgress(assignmentGrace: $0.progress.assignmentGrace, stallAfter: $0.progress.stallAfter), .joining) }
                    logger.warning("writer replaced its Kafka consumer")
                }
            } catch {
                logger.error("writer could not replace its Kafka consumer", metadata: ["flashdeal.error": "\(error)"])
            }
        }
    }
}

/// The writer's Kafka consumer, replaceable.
final class ConsumerSlot: Sendable {
    private let consumer: Mutex<KafkaConsumer>
    private let remake: (@Sendable () throws -> KafkaConsumer)?

    init(_ consumer: KafkaConsumer, remake: (@Sendable () throws -> KafkaConsumer)?) {
        self.consumer = Mutex(consumer)
        self.remake = remake
    }

    var current: KafkaConsumer { consumer.withLock { $0 } }

    /// Replaces the consumer with a fresh one; false when it cannot be remade.
    func renew() throws -> Bool {
        guard let remake else { return false }
        let fresh = try remake()
        consumer.withLock { $0 = fresh }
        return true
    }
}

/// The writer's series on `/metrics`: Kafka lag per assigned partition
/// (`flashdeal_writer_kafka_lag_messages`), whether it is ready (`flashdeal_writer_ready`), how
/// often it found itself stalled or unassigned (`flashdeal_writer_stalls_total`), the messages
/// it has written and committed (`flashdeal_writer_messages_written_total`), and each batch's size
/// and MongoDB write time (`flashdeal_writer_batch_messages`, `flashdeal_writer_mongo_write_duration_seconds`).
public final class WriterMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let readyGauge: Gauge
    let stalls: Counter
    let written: Counter
    let batchMessages: ValueHistogram
    let batchWrite: DurationHistogram

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        readyGauge = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "flashdeal", subsystem: "writer", metricName: "ready", helpText: "1 while the writer holds partitions and keeps up"))
        stalls = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "flashdeal", subsystem: "writer", metricName: "stalls", unitName: "total",
            helpText: "Times the writer found itself unassigned or not writing while messages waited"))
        written = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "flashdeal", subsystem: "writer", metricName: "messages_written", unitName: "total",
            helpText: "Kafka messages the writer has written to MongoDB (or dead-lettered) and committed"))
        batchMessages = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "flashdeal", subsystem: "writer", metricName: "batch_messages", helpText: "Messages per batch the writer read"),
            buckets: [1, 10, 50, 100, 250, 500, 1000])
        batchWrite = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "flashdeal", subsystem: "writer", metricName: "mongo_write_duration", unitName: "seconds",
                helpText: "How long a batch's MongoDB writes took (the event store append and the read models)"),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                      .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)])
    }

    /// A batch of `messages` whose MongoDB writes took `duration`.
    func batch(_ messages: Int, wrote duration: Duration) {
        batchMessages.record(Double(messages))
        batchWrite.recordNanoseconds(duration.nanoseconds)
    }

    func ready(_ ready: Bool) { readyGauge.set(Int64(ready ? 1 : 0)) }
    func stalled() { stalls.increment() }
    func wrote(_ messages: Int) { written.increment(by: Int64(messages)) }

    func lag(_ assignment: [(topic: String, partition: Int32, lag: Int64?)]) {
        for (topic, partition, lag) in assignment {
            guard let lag else { continue }
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "flashdeal", subsystem: "writer", metricName: "kafka_lag", unitName: "messages",
                    helpText: "Messages behind the high watermark, per assigned partition"),
                labels: [("topic", topic), ("partition", String(partition))]
            ).set(lag)
        }
    }
}
