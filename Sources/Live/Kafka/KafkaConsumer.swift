import CRdKafka
import Foundation
import Synchronization

/// A librdkafka consumer in a consumer group, committing offsets only when told (after the
/// caller has written what it read): at-least-once, so consumers deduplicate by event id.
public final class KafkaConsumer: @unchecked Sendable {
    // Safe: librdkafka's consumer handle is thread-safe; `poll` and `commit` are called by one task,
    // and `wasAssigned` is a Mutex.
    private let handle: OpaquePointer
    /// Whether the group has ever given this member a partition (see `deinit`).
    private let wasAssigned = Mutex(false)
    /// What it subscribed to.
    let topics: Set<String>

    public struct Message: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var key: String
        public var value: [UInt8]
        /// The message's headers (the W3C trace context of a traced order); the last of a name wins.
        public var headers: [String: String] = [:]
    }

    /// The group member's timing.
    public struct Settings: Sendable, Hashable {
        /// `session.timeout.ms`: how soon the group notices a member gone.
        public var sessionTimeout: Duration
        /// `heartbeat.interval.ms`.
        public var heartbeatInterval: Duration
        /// `topic.metadata.refresh.interval.ms`: how soon a subscribed topic is noticed after it is created.
        public var metadataRefresh: Duration

        /// Short session timeouts keep rebalances quick; a short metadata refresh notices a
        /// subscribed topic soon after it is created (librdkafka's default waits five minutes).
        public init(sessionTimeout: Duration = .seconds(6), heartbeatInterval: Duration = .milliseconds(500), metadataRefresh: Duration = .seconds(2)) {
            self.sessionTimeout = sessionTimeout
            self.heartbeatInterval = heartbeatInterval
            self.metadataRefresh = metadataRefresh
        }
    }

    /// Joins `group` and subscribes to `topics`.
    public init(brokers: String, group: String, topics: [String], settings: Settings = Settings()) throws {
        let conf = try Kafka.configuration([
            "bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": "false", "auto.offset.reset": "earliest",
            "session.timeout.ms": Kafka.milliseconds(settings.sessionTimeout), "heartbeat.interval.ms": Kafka.milliseconds(settings.heartbeatInterval),
            "enable.partition.eof": "false", "topic.metadata.refresh.interval.ms": Kafka.milliseconds(settings.metadataRefresh),
        ])
        self.topics = Set(topics)
        handle = try Kafka.handle(RD_KAFKA_CONSUMER, conf)
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let error = rd_kafka_subscribe(handle, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // Every property is set, so `deinit` runs and destroys the handle.
            throw KafkaError(code: error.rawValue, message: "cannot subscribe to \(topics): \(Kafka.text(error))")
        }
    }

    /// Leaves the group cleanly (LeaveGroup, so the partitions move at once) only once the group
    /// has assigned this member something. A member that leaves before its first assignment can
    /// wedge a group for good on some brokers (tansu 0.6: no member is ever assigned again, see
    /// `docs/data/kafka.md`); one that goes without a word is dropped after `session.timeout.ms`,
    /// as a crashed one is, which every broker handles.
    deinit {
        if wasAssigned.withLock({ $0 }) {
            rd_kafka_consumer_close(handle)
            rd_kafka_destroy(handle)
        } else {
            rd_kafka_destroy_flags(handle, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        }
    }

    /// The partitions the group assigns this member now, with how far each is behind its high
    /// watermark (from the broker's last fetch reply). A partition this member has not consumed
    /// from since it was assigned has no position yet: it is measured from the group's committed
    /// offset (one round trip for all of them, at most `timeoutMs`: call off the cooperative
    /// pool), else counts as unknown lag (nil). Measuring it from the partition's low watermark
    /// instead would count everything ever written there, and keep counting it on a partition
    /// that gets no new message (a restarted writer would look stalled).
    public func assignment(timeoutMs: Int32 = 1000) -> [(topic: String, partition: Int32, lag: Int64?)] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_position(handle, list)
        let count = Int(list.pointee.cnt)
        // Where each partition's lag counts from: its position, else the committed offset, else
        // (nothing committed) its low watermark, as `auto.offset.reset=earliest` starts there.
        var from = (0..<count).map { list.pointee.elems[$0].offset >= 0 ? list.pointee.elems[$0].offset : nil }
        var useLow = Array(repeating: false, count: count)
        if from.contains(nil), let committed = rd_kafka_topic_partition_list_copy(list) {
            defer { rd_kafka_topic_partition_list_destroy(committed) }
            if rd_kafka_committed(handle, committed, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR {
                for i in 0..<count where from[i] == nil && committed.pointee.elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let offset = committed.pointee.elems[i].offset
                    if offset >= 0 { from[i] = offset } else { useLow[i] = offset == Int64(RD_KAFKA_OFFSET_INVALID) }
                }
            }
        }
        var result: [(topic: String, partition: Int32, lag: Int64?)] = []
        for i in 0..<count {
            let element = list.pointee.elems[i]
            var low: Int64 = 0, high: Int64 = 0
            let known = rd_kafka_get_watermark_offsets(handle, element.topic, element.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR
            let start = from[i] ?? (useLow[i] ? low : nil)
            let lag: Int64? = known && high >= 0 ? start.map { max(0, high - $0) } : nil
            result.append((String(cString: element.topic), element.partition, lag))
        }
        if !result.isEmpty { wasAssigned.withLock { $0 = true } }
        return result
    }

    /// How many partitions the subscribed topics have, from a metadata request (blocking, up to
    /// `timeoutMs`: call off the cooperative pool). Zero while no topic exists yet.
    public func subscribedPartitions(timeoutMs: Int32) throws -> Int {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMs)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(code: error.rawValue, message: "metadata: \(Kafka.text(error))")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var count = 0
        for i in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[i]
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, topics.contains(String(cString: topic.topic)) { count += Int(topic.partition_cnt) }
        }
        return count
    }

    /// Whether the group has ever assigned this member a partition.
    public var hasBeenAssigned: Bool { wasAssigned.withLock { $0 } }

    /// Up to `max` messages, waiting at most `timeoutMs` for the first (blocking: call off the
    /// cooperative pool).
    public func poll(max: Int, timeoutMs: Int32) throws -> [Message] {
        var messages: [Message] = []
        var wait = timeoutMs
        while messages.count < max, let message = rd_kafka_consumer_poll(handle, wait) {
            defer { rd_kafka_message_destroy(message) }
            wait = 0
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                // End of a partition, or a topic nobody has produced to yet: nothing to read.
                if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC
                    || m.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                {
                    continue
                }
                throw KafkaError(code: m.err.rawValue, message: Kafka.text(m.err))
            }
            let key = m.key.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.key_len), as: UTF8.self) } ?? ""
            let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
            messages.append(Message(
                topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset, key: key, value: value,
                headers: Self.headers(message)))
        }
        if !messages.isEmpty { wasAssigned.withLock { $0 = true } }
        return messages
    }

    /// A message's headers as text (none: empty, without an allocation).
    static func headers(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [String: String] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [:] }
        var headers: [String: String] = [:]
        var index = 0
        var name: UnsafePointer<CChar>?, value: UnsafeRawPointer?, size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            index += 1
            guard let name else { continue }
            headers[String(cString: name)] = value.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: size), as: UTF8.self) } ?? ""
        }
        return headers
    }

    /// Commits the offsets of everything polled so far (synchronously).
    public func commit() throws {
        let error = rd_kafka_commit(handle, nil, 0)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(code: error.rawValue, message: "commit failed: \(Kafka.text(error))")
        }
    }
}
