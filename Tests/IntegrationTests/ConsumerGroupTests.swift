import Foundation
@testable import LiveKafka
@testable import LiveRuntime
import Testing

/// The development broker (tansu 0.6) wedges a consumer group for good when a member leaves it
/// before its first assignment. The first test reproduces that with two plain librdkafka
/// consumers (confluent-kafka, in Python); the second shows the writer's consumer, stopped within
/// its first second and started again, does not wedge its group: it never sends LeaveGroup before
/// it holds an assignment. Each on a broker of its own.
@Suite(.enabled(if: Backends.tansu != nil && Backends.python != nil))
struct ConsumerGroupTests {
    @Test func aPlainConsumerLeavingBeforeItsAssignmentWedgesTheDevelopmentBroker() async throws {
        let port = Int.random(in: 19_900...20_099)
        let broker = try Broker(port: port)
        defer { broker.kill() }
        let script = """
            import sys, time
            from confluent_kafka import Consumer, Producer
            servers, topic = sys.argv[1], sys.argv[2]
            p = Producer({"bootstrap.servers": servers}); p.produce(topic, b"x"); p.flush(10)
            conf = {"bootstrap.servers": servers, "group.id": "wedge", "auto.offset.reset": "earliest",
                    "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
            first = Consumer(conf); first.subscribe([topic])
            end = time.time() + 0.5
            while time.time() < end: first.poll(0.1)
            first.close()
            second = Consumer(conf); second.subscribe([topic])
            got, end = None, time.time() + 25
            while got is None and time.time() < end:
                m = second.poll(0.5)
                if m is not None and m.error() is None: got = m
            second.close()
            print("consumed" if got else "wedged")
            """
        let python = try #require(Backends.python)
        let output = try await Self.offThePool { try Self.run(python, ["-c", script, "127.0.0.1:\(port)", "wedge-topic"]).out }
        #expect(output.contains("wedged"), "the broker no longer wedges (then this test documents a fixed bug): \(output)")
    }

    @Test func theWritersConsumerStoppedInItsFirstSecondDoesNotWedgeItsGroup() async throws {
        let port = Int.random(in: 20_100...20_299)
        let broker = try Broker(port: port)
        defer { broker.kill() }
        let brokers = "127.0.0.1:\(port)", topic = "restart-topic"
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        try await producer.send(topic: topic, key: "k", value: Array("first".utf8))
        do {
            let first = try KafkaConsumer(brokers: brokers, group: "writers", topics: [topic])
            _ = try await Self.poll(first, max: 10)
            #expect(!first.hasBeenAssigned, "stopped before its first assignment, as a quickly restarted writer is")
        }  // released here: destroyed without a LeaveGroup
        let second = try KafkaConsumer(brokers: brokers, group: "writers", topics: [topic])
        var consumed: [KafkaConsumer.Message] = []
        let deadline = ContinuousClock.now + .seconds(40)
        while consumed.isEmpty, ContinuousClock.now < deadline { consumed += try await Self.poll(second, max: 10) }
        #expect(consumed.map { String(decoding: $0.value, as: UTF8.self) } == ["first"], "the restarted writer is assigned and consumes")
        let assignment = try await BlockingCalls.kafka { second.assignment() }
        let partitions = try await BlockingCalls.kafka { try second.subscribedPartitions(timeoutMs: 2000) }
        #expect(second.hasBeenAssigned && !assignment.isEmpty)
        #expect(partitions > 0)
    }

    /// A member that takes over partitions whose messages were all written and committed has no
    /// position on them until a new message comes: its lag counts from the committed offset (none
    /// waits), not from the start of the partition (every message ever written, a writer that
    /// looks stalled after each restart).
    @Test func aNewMembersLagCountsFromTheCommittedOffset() async throws {
        let port = Int.random(in: 20_300...20_499)
        let broker = try Broker(port: port)
        defer { broker.kill() }
        let brokers = "127.0.0.1:\(port)", topic = "lag-topic"
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        for i in 0..<20 { try await producer.send(topic: topic, key: "k\(i)", value: Array("m\(i)".utf8)) }
        do {
            let first = try KafkaConsumer(brokers: brokers, group: "lag", topics: [topic])
            var consumed = 0
            let deadline = ContinuousClock.now + .seconds(40)
            while consumed < 20, ContinuousClock.now < deadline { consumed += try await Self.poll(first, max: 50).count }
            #expect(consumed == 20)
            try await BlockingCalls.kafka { try first.commit() }
            #expect(try await BlockingCalls.kafka { first.assignment() }.compactMap(\.lag).reduce(0, +) == 0)
        }  // leaves the group: it was assigned
        let second = try KafkaConsumer(brokers: brokers, group: "lag", topics: [topic])
        let deadline = ContinuousClock.now + .seconds(40)
        while !second.hasBeenAssigned, ContinuousClock.now < deadline {
            #expect(try await Self.poll(second, max: 10).isEmpty, "everything was committed")
        }
        let assignment = try await BlockingCalls.kafka { second.assignment() }
        #expect(!assignment.isEmpty)
        #expect(assignment.allSatisfy { $0.lag == 0 }, "lag per partition: \(assignment.map { $0.lag.map(String.init) ?? "unknown" })")
    }

    /// A poll that may wait half a second, off the cooperative pool: the suites running beside
    /// this one (a server under k6 among them) share its threads, two on this machine. Every
    /// blocking Kafka call here goes through `BlockingCalls.kafka`, as the writer's do; the Python
    /// run through `offThePool`.
    static func poll(_ consumer: KafkaConsumer, max: Int) async throws -> [KafkaConsumer.Message] {
        try await BlockingCalls.kafka { try consumer.poll(max: max, timeoutMs: 500) }
    }

    /// Half a minute of a child process, on a thread of its own rather than Kafka's few.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// Runs `executable` to its end: its exit status and its output and errors together.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
