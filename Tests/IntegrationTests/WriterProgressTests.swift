import LiveKafka
import Testing

/// The writer's readiness verdict over time: joining, unassigned past the grace, stalled while
/// messages wait and nothing is written, ready again once it writes.
@Suite struct WriterProgressTests {
    let t0 = ContinuousClock.now

    @Test func aWriterWithoutPartitionsIsReadyOnlyWhileItsTopicsDoNotExist() {
        var progress = WriterProgress(assignmentGrace: .seconds(30), stallAfter: .seconds(30))
        #expect(progress.observe(at: t0, partitions: 0, lag: nil, topicsExist: false) == .ready, "nothing to write yet")
        #expect(progress.observe(at: t0 + .seconds(5), partitions: 0, lag: nil, topicsExist: true) == .joining)
        #expect(progress.observe(at: t0 + .seconds(34), partitions: 0, lag: nil, topicsExist: true) == .joining, "the grace counts from the topics' appearance")
        #expect(progress.observe(at: t0 + .seconds(35), partitions: 0, lag: nil, topicsExist: true) == .unassigned)
        #expect(progress.observe(at: t0 + .seconds(36), partitions: 4, lag: 0, topicsExist: true) == .ready)
        #expect(progress.observe(at: t0 + .seconds(37), partitions: 0, lag: nil, topicsExist: true) == .joining, "a rebalance starts a new grace")
    }

    @Test func aWriterIsStalledWhenMessagesWaitAndItWritesNothing() {
        var progress = WriterProgress(assignmentGrace: .seconds(30), stallAfter: .seconds(30))
        #expect(progress.observe(at: t0, partitions: 4, lag: 0, topicsExist: true) == .ready)
        // Idle for an hour, then messages arrive: it gets stallAfter from when they were first seen.
        #expect(progress.observe(at: t0 + .seconds(3600), partitions: 4, lag: 800, topicsExist: true) == .ready)
        #expect(progress.observe(at: t0 + .seconds(3629), partitions: 4, lag: 800, topicsExist: true) == .ready)
        #expect(progress.observe(at: t0 + .seconds(3630), partitions: 4, lag: 800, topicsExist: true) == .stalled(lag: 800))
        progress.progressed(at: t0 + .seconds(3631))
        #expect(progress.observe(at: t0 + .seconds(3632), partitions: 4, lag: 300, topicsExist: true) == .ready, "writing again")
        #expect(progress.observe(at: t0 + .seconds(3661), partitions: 4, lag: 300, topicsExist: true) == .stalled(lag: 300))
        #expect(progress.observe(at: t0 + .seconds(3662), partitions: 4, lag: 0, topicsExist: true) == .ready, "caught up")
        #expect(progress.observe(at: t0 + .seconds(3663), partitions: 4, lag: nil, topicsExist: true) == .ready, "lag not known yet")
    }
}
