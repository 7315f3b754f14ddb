import CRdKafka
import Foundation

/// A librdkafka consumer in a consumer group, committing offsets only when told (after the
/// caller has written what it read): at-least-once, so consumers deduplicate by event id.
public final class KafkaConsumer: @unchecked Sendable {
    // Safe: librdkafka's consumer handle is thread-safe; `poll` and `commit` are called by one task.
    private let handle: OpaquePointer

    public struct Message: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var key: String
        public var value: [UInt8]
    }

    /// Joins `group` and subscribes to `topics`. Short session timeouts keep rebalances quick; a
    /// short metadata refresh notices a subscribed topic soon after it is created (the default
    /// waits five minutes).
    public init(brokers: String, group: String, topics: [String]) throws {
        let conf = try Kafka.configuration([
            "bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": "false", "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "enable.partition.eof": "false",
            "topic.metadata.refresh.interval.ms": "2000",
        ])
        handle = try Kafka.handle(RD_KAFKA_CONSUMER, conf)
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let error = rd_kafka_subscribe(handle, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle)
            throw KafkaError(code: error.rawValue, message: "cannot subscribe to \(topics): \(Kafka.text(error))")
        }
    }

    deinit {
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }

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
                topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset, key: key, value: value))
        }
        return messages
    }

    /// Commits the offsets of everything polled so far (synchronously).
    public func commit() throws {
        let error = rd_kafka_commit(handle, nil, 0)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(code: error.rawValue, message: "commit failed: \(Kafka.text(error))")
        }
    }
}
