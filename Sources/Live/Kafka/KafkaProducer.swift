import CRdKafka
import Foundation
import LiveRuntime
import Logging

/// An idempotent librdkafka producer (`enable.idempotence=true`, `acks=all`). `send` resolves when
/// the broker has acknowledged the message (its delivery report), so a caller never reports
/// success for a message that is not in Kafka. librdkafka handles are thread-safe; a dedicated
/// thread polls for delivery reports.
public final class KafkaProducer: @unchecked Sendable {
    // Safe: librdkafka's handle is thread-safe; `stopped` is guarded by `lock`.
    private let handle: OpaquePointer
    private var topics: [String: OpaquePointer] = [:]
    private let lock = NSLock()
    private var stopped = false
    private var poller: Thread?

    public struct Configuration: Sendable {
        /// `host:port,host:port`.
        public var brokers: String
        /// How long a batch is gathered (`linger.ms`).
        public var linger: Duration
        /// How long a message may wait for delivery before it fails (`message.timeout.ms`).
        public var messageTimeout: Duration

        public init(brokers: String, linger: Duration = .milliseconds(5), messageTimeout: Duration = .seconds(10)) {
            self.brokers = brokers
            self.linger = linger
            self.messageTimeout = messageTimeout
        }
    }

    public init(_ configuration: Configuration) throws {
        let conf = try Kafka.configuration([
            "bootstrap.servers": configuration.brokers, "enable.idempotence": "true", "acks": "all",
            "linger.ms": Kafka.milliseconds(configuration.linger), "message.timeout.ms": Kafka.milliseconds(configuration.messageTimeout),
        ])
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let delivery = Unmanaged<Delivery>.fromOpaque(opaque).takeRetainedValue()
            let error = message.pointee.err
            delivery.finish(error == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(code: error.rawValue, message: Kafka.text(error)))
        }
        handle = try Kafka.handle(RD_KAFKA_PRODUCER, conf)
        let thread = Thread { [unowned self] in self.pollLoop() }
        thread.name = "flashdeal.kafka.producer"
        poller = thread
        thread.start()
    }

    deinit {
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
        rd_kafka_destroy(handle)
    }

    /// Asks the brokers for their metadata: throws when none answers within `timeoutMs` (start-up
    /// and readiness checks).
    public func checkReachable(timeoutMs: Int32 = 2000) async throws {
        let code = try await BlockingCalls.kafka { [self] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let error = rd_kafka_metadata(handle, 0, nil, &metadata, timeoutMs)
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            return error
        }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: code.rawValue, message: Kafka.text(code)) }
    }

    /// The librdkafka version loaded at run time (2.16.x expected).
    public static var libraryVersion: String { String(cString: rd_kafka_version_str()) }

    private func pollLoop() {
        while !(lock.withLock { stopped }) { rd_kafka_poll(handle, 100) }
    }

    private func topic(_ name: String) -> OpaquePointer {
        lock.withLock {
            if let topic = topics[name] { return topic }
            let topic = rd_kafka_topic_new(handle, name, nil)!
            topics[name] = topic
            return topic
        }
    }

    /// One message: its topic, its key (the partitioner keeps a key on one partition), its value
    /// and its headers (the W3C trace context, when traced).
    public struct Message: Sendable {
        public var topic: String
        public var key: String
        public var value: [UInt8]
        public var headers: [String: String]

        public init(topic: String, key: String, value: [UInt8], headers: [String: String] = [:]) {
            self.topic = topic
            self.key = key
            self.value = value
            self.headers = headers
        }
    }

    /// Sends one message keyed by `key` (the partitioner keeps a key on one partition) and waits
    /// for the broker's acknowledgement.
    public func send(topic name: String, key: String, value: [UInt8]) async throws {
        try await send([Message(topic: name, key: key, value: value)])
    }

    /// Enqueues the messages in the order given, from one thread (so one key's messages reach its
    /// partition in that order), and waits until the broker acknowledged every one; the first
    /// failure is thrown. After a message cannot be enqueued the rest are not sent (they would
    /// overtake it) and fail with it.
    public func send(_ messages: [Message]) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let completion = Completion(count: messages.count, continuation)
            for (i, message) in messages.enumerated() {
                let topic = self.topic(message.topic)
                let delivery = Unmanaged.passRetained(Delivery(completion)).toOpaque()
                let error = message.value.withUnsafeBytes { v in
                    message.key.withCString { k in enqueue(topic, v, k, headers: message.headers, delivery) }
                }
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    Unmanaged<Delivery>.fromOpaque(delivery).release()
                    completion.fail(
                        KafkaError(code: error.rawValue, message: "cannot enqueue to \(message.topic): \(Kafka.text(error))"),
                        count: messages.count - i)
                    return
                }
            }
        }
    }

    /// One message into librdkafka's queue (copied): `rd_kafka_produce`, or with headers the
    /// shim's `rd_kafka_producev`.
    private func enqueue(
        _ topic: OpaquePointer, _ value: UnsafeRawBufferPointer, _ key: UnsafePointer<CChar>, headers: [String: String], _ delivery: UnsafeMutableRawPointer
    ) -> rd_kafka_resp_err_t {
        let payload = UnsafeMutableRawPointer(mutating: value.baseAddress)
        guard !headers.isEmpty else {
            let status = rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, value.count, key, strlen(key), delivery)
            return status == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error()
        }
        let list = rd_kafka_headers_new(headers.count)
        for (name, text) in headers.sorted(by: { $0.key < $1.key }) {
            _ = rd_kafka_header_add(list, name, -1, text, -1)
        }
        let error = flashdeal_produce_with_headers(handle, topic, payload, value.count, key, strlen(key), list, delivery)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { rd_kafka_headers_destroy(list) }
        return error
    }

    /// The idempotent producer's fatal error, once it has one (for example a broker that lost the
    /// producer's state): librdkafka's rule is that such a producer must be replaced.
    public var fatalError: KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(code: code.rawValue, message: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Waits for every message in flight (up to `timeoutMs`), then stops polling. Blocks: from
    /// async code use ``close(timeoutMs:)``.
    public func shutdown(timeoutMs: Int32 = 10_000) {
        _ = rd_kafka_flush(handle, timeoutMs)
        lock.withLock { stopped = true }
    }

    /// ``shutdown(timeoutMs:)`` on Kafka's threads (``BlockingCalls``).
    public func close(timeoutMs: Int32 = 10_000) async {
        _ = try? await BlockingCalls.kafka { [self] in shutdown(timeoutMs: timeoutMs) }
    }

    /// One message's delivery report, counted into its batch's completion.
    final class Delivery {
        let completion: Completion
        init(_ completion: Completion) { self.completion = completion }
        func finish(_ error: KafkaError?) { completion.fail(error, count: 1) }
    }

    /// A batch's acknowledgements: resumes the sender when the last one is in, with the first error.
    final class Completion: @unchecked Sendable {
        // Safe: `remaining` and `error` change under `lock` (delivery reports come from the poll thread).
        private let lock = NSLock()
        private var remaining: Int
        private var error: KafkaError?
        private let continuation: CheckedContinuation<Void, any Error>

        init(count: Int, _ continuation: CheckedContinuation<Void, any Error>) {
            remaining = count
            self.continuation = continuation
        }

        /// `count` messages are done, failed with `error` or (nil) acknowledged.
        func fail(_ error: KafkaError?, count: Int) {
            let finished: KafkaError?? = lock.withLock {
                if self.error == nil { self.error = error }
                remaining -= count
                return remaining == 0 ? .some(self.error) : .none
            }
            guard let finished else { return }
            if let finished { continuation.resume(throwing: finished) } else { continuation.resume() }
        }
    }
}

/// A Kafka failure with librdkafka's error code.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { "Kafka: \(message)" }
}

enum Kafka {
    /// A duration as librdkafka's millisecond settings take it.
    static func milliseconds(_ duration: Duration) -> String {
        String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// A configuration with `settings`, whose handle logs through swift-log (the process's
    /// handler: a JSON line like every other) instead of librdkafka's own lines on standard error.
    static func configuration(_ settings: [String: String]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, text in
            // syslog levels: 0-2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
            let levels: [Logger.Level] = [.critical, .critical, .critical, .error, .warning, .notice, .info, .debug]
            Logger(label: "flashdeal.librdkafka").log(
                level: levels[Int(min(max(level, 0), 7))], "\(text.map { String(cString: $0) } ?? "")",
                metadata: [
                    "flashdeal.kafka.facility": "\(facility.map { String(cString: $0) } ?? "")",
                    "flashdeal.kafka.client": "\(handle.map { String(cString: rd_kafka_name($0)) } ?? "")",
                ])
        }
        var buffer = [CChar](repeating: 0, count: 512)
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &buffer, buffer.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: -1, message: "bad setting \(key)=\(value): \(String(cString: buffer))")
            }
        }
        return conf
    }

    /// Creates a handle; it takes ownership of `conf`.
    static func handle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
        var buffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &buffer, buffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: -1, message: "cannot create a Kafka client: \(String(cString: buffer))")
        }
        return handle
    }

    static func text(_ error: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(error)) }
}
