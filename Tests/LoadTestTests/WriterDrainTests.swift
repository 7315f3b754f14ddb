import Foundation
import LoadTest
import Sim
import Testing

/// The writer's catch-up from its `/metrics` samples: when it has drained, how long after the load,
/// what it cost, and the table against the simulator's.
@Suite struct WriterDrainTests {
    /// A load until 10 s that leaves 4,000 messages waiting at its peak, written at 200 a second
    /// from 10 s to 30 s, the machine 1.2 cores busy (0.2 of them its quiet level).
    static func recorded() -> WriterDrain {
        var samples: [WriterDrain.Sample] = []
        for tenth in stride(from: 0, through: 400, by: 5) {
            let t = Double(tenth) / 10
            let written = t <= 10 ? 0 : min(4000, (t - 10) * 200)
            let waiting = t <= 10 ? t * 400 : 4000 - written
            samples.append(.init(at: t, written: written, lag: waiting * 0.75, outbox: waiting * 0.25, busy: t * 1.2))
        }
        return WriterDrain(samples: samples, loadEnd: 10)
    }

    @Test func theDrainIsTheLastWriteAfterTheLoad() throws {
        let drain = Self.recorded()
        #expect(drain.peakBacklog == 4000 && drain.peakLag == 3000 && drain.messages == 4000)
        #expect(drain.drainSeconds == 20)
        #expect(WriterDrain.drained(drain.samples))
        // Not drained while messages wait, nor until the counter has stood still for 3 s.
        #expect(!WriterDrain.drained(Array(drain.samples.prefix { $0.at <= 25 })))
        #expect(!WriterDrain.drained(Array(drain.samples.prefix { $0.at <= 31 })))
        #expect(WriterDrain.drained(Array(drain.samples.prefix { $0.at <= 33 })))
        // No write at all: drained once nothing has waited for 3 s.
        let idle = (0...6).map { WriterDrain.Sample(at: Double($0) / 2, written: 12, lag: 0, outbox: 0, busy: 0) }
        #expect(WriterDrain.drained(idle) && !WriterDrain.drained(Array(idle.prefix(5))))
    }

    @Test func theTiersCostIsTheMachinesBusyTimeBeyondQuietPerMessage() throws {
        // From the load's end: 20 s to the last write, 24 busy core-seconds of which 4 quiet, for
        // 4,000 messages: 5 ms a message, one core.
        let drain = Self.recorded()
        let fromLoadEnd = WriterDrain(samples: drain.samples.filter { $0.at >= 10 }, loadEnd: 0)
        let cost = try #require(fromLoadEnd.cost(idleBusyPerSecond: 0.2))
        #expect(abs(cost.cpuPerMessageMs - 5) < 1e-9 && abs(cost.cores - 1) < 1e-9, "\(cost)")
        #expect(fromLoadEnd.cost(idleBusyPerSecond: 0.2, minimum: 5000) == nil)
    }

    @Test func theTableComparesThePeakAndTheDrainWithTheirTarget() throws {
        var scenario = try Scenario.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments/smoke.json").path)
        scenario.traffic.stages = [.init(duration: 2_000_000_000, target: 20)]
        var runs = Simulator.replicate(scenario, count: 2)
        for i in runs.indices {
            runs[i].kafka.maxLag = 3800 + 100 * i
            runs[i].kafka.caughtUpSeconds = 30
            runs[i].kafka.caughtUpConsumed = 4100
        }
        let table = Self.recorded().markdown(predicted: runs)
        #expect(table.contains("| messages waiting, peak | 3850 ± 70.7 | 3800–3900 | 4000 | -4% | ±20% ✓ |"), "\(table)")
        #expect(table.contains("| drain after the load (s) | 30.0 ± 0.0 | 30.0–30.0 | 20.0 | +50% | ±20% ✗ |"), "\(table)")
        // The messages the writer had written when it caught up, not those of reservations
        // expiring after it.
        #expect(table.contains("| messages written by then | 4100 ± 0.0 | 4100–4100 |"), "\(table)")
    }
}
