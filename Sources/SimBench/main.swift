// `make bench`: the simulator's speed, as ratios against a peer run in the same command.
//  1. The reference model (M/M/8 at utilisation 0.9 in tandem with a finite single-server stage,
//     1,000,000 customers, fixed seed) on Flash Deal's engine and on SimPy 4: CPU seconds of each,
//     the ratio, and both models' mean waits beside Erlang C.
//  2. The flash-spike scenario scaled to a 60-second spike at 100,000 requests/s: CPU seconds on
//     one core, events per second and peak memory.
//  3. The JSON of the documents the live server's request path keeps in Redis (an order, an
//     outbox entry's events), written and read by `CompactJSONEncoder`/`CompactJSONDecoder` and by
//     Foundation's `JSONEncoder`/`JSONDecoder`: CPU seconds of each and the ratios.
import Domain
import Foundation
import LiveRuntime
import Sim

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

/// Runs `body` `times` times; the median CPU seconds and the last result.
func median<T>(_ times: Int, _ body: () throws -> T) rethrows -> (Double, T) {
    var samples: [Double] = []
    var last: T?
    for _ in 0..<times {
        let before = cpuSeconds()
        last = try body()
        samples.append(cpuSeconds() - before)
    }
    return (samples.sorted()[times / 2], last!)
}


let arguments = CommandLine.arguments
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let customers = Int(ProcessInfo.processInfo.environment["FLASHDEAL_BENCH_CUSTOMERS"] ?? "") ?? 1_000_000
let python = root.appendingPathComponent(".venv/bin/python").path

let part = ProcessInfo.processInfo.environment["FLASHDEAL_BENCH_PART"] ?? "all"

// 1. Reference model
if part == "all" || part == "reference" || part == "engine" {
print("== Reference model: M/M/8 (ρ = 0.9) → single server with 20 waiting places, \(customers) customers")
let (oursCPU, ours) = median(5) {
    var model = TandemQueueModel(
        stages: [.init(servers: 8, service: .exponentialMs(7.2)), .init(servers: 1, queueLimit: 20, service: .exponentialMs(0.5))],
        interarrival: .exponentialMs(1), customers: customers, seed: 1)
    return model.run()
}
let erlang = QueueingTheory.mmcWait(servers: 8, arrivalRate: 1, meanService: 7.2)
print("Flash Deal engine: \(f(oursCPU, 3)) CPU s (median of 5 runs), \(ours.events) events (\(f(Double(ours.events) / oursCPU / 1e6))M events/CPU-s); mean wait stage 1 \(f(ours.meanWait[0] / 1e6, 3)) ms, stage 2 \(f(ours.meanWait[1] / 1e6, 3)) ms, drops \(f(ours.dropRate[1] * 100, 3))%")

if part == "engine" { exit(0) }
let process = Process()
process.executableURL = URL(fileURLWithPath: python)
process.arguments = [root.appendingPathComponent("scripts/bench/simpy_tandem.py").path, "\(customers)", "1"]
let pipe = Pipe()
process.standardOutput = pipe
var exitCode: Int32 = 1
do {
    try process.run()
    process.waitUntilExit()
    exitCode = process.terminationStatus
} catch {
    print("SimPy could not run (\(error)); run `FLASHDEAL_BENCH=1 scripts/bootstrap.sh` to install it")
}
let output = pipe.fileHandleForReading.readDataToEndOfFile()
if exitCode == 0, let json = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
    let simpyCPU = json["cpuSeconds"] as? Double, let w1 = json["meanWait1Ms"] as? Double, let w2 = json["meanWait2Ms"] as? Double
{
    print("\(json["engine"] ?? "SimPy"): \(f(simpyCPU, 2)) CPU s; mean wait stage 1 \(f(w1, 3)) ms, stage 2 \(f(w2, 3)) ms, drops \(f((json["dropRate2"] as? Double ?? 0) * 100, 3))%")
    print("Erlang C mean wait of stage 1: \(f(erlang, 3)) ms")
    print("RATIO: Flash Deal is \(f(simpyCPU / oursCPU, 1))× faster than SimPy in CPU time (target ≥ 100×)")
    let agree1 = abs(ours.meanWait[0] / 1e6 - w1) / w1, agree2 = abs(ours.meanWait[1] / 1e6 - w2) / w2
    print("AGREEMENT: stage-1 mean waits differ by \(f(agree1 * 100, 1))%, stage-2 by \(f(agree2 * 100, 1))% (independent random streams)")
} else {
    print("SimPy did not produce a result (exit \(exitCode)): \(String(decoding: output, as: UTF8.self))")
}

}

// 2. The 100k-rps spike
if part == "all" || part == "spike" {
print("\n== flash-spike scaled: a 60 s spike at 100,000 requests/s (experiments/flash-spike-100k.json)")
let scenario = try Scenario.load(path: root.appendingPathComponent("experiments/flash-spike-100k.json").path)
let (spikeCPU, result) = median(3) { Simulator.run(scenario) }
print("requests \(result.throughput.requests), peak offered \(f(result.throughput.peakOfferedRps, 0)) rps, P95 \(f(result.overall.p95Ms)) ms, oversold \(result.orders.oversoldUnits), bottleneck \(result.bottleneck.resource)")
print("SPIKE: \(f(spikeCPU, 2)) CPU s on one core (median of 3 runs; target < 10 s), \(result.eventsProcessed) events (\(f(Double(result.eventsProcessed) / spikeCPU / 1e6))M events/CPU-s), peak memory \(f(peakMemoryMiB(), 0)) MiB")
}

// 3. The Redis documents' JSON
if part == "all" || part == "json" {
print("\n== The request path's documents in Redis: CompactJSON against Foundation's JSONEncoder/JSONDecoder")
let placed = Instant.seconds(1_700_000_000)
let order = Order(OrderPlaced(
    orderID: "o-8f3a2c", dealID: "deal-1", userID: "u-52117", quantity: 1, unitPrice: Money(minorUnits: 129_000), idempotencyKey: "k-52117-1",
    placedAt: placed, expiresAt: placed + .seconds(600), paymentDeadline: placed + .seconds(300)))
let paid = order.after(.pay, at: placed + .seconds(20), paymentID: "pay-o-8f3a2c")!.0
// A payment's outbox entry: what `payOrder` journals besides the gate's own change.
let events = [
    EventEnvelope(aggregateID: .payment("pay-o-8f3a2c"), sequence: 1, occurredAt: placed + .seconds(20), payload: .payment(.requested(PaymentRequested(
        paymentID: "pay-o-8f3a2c", orderID: order.id, amount: order.amount, idempotencyKey: "pay-k-52117-1", at: placed + .seconds(20))))),
    EventEnvelope(aggregateID: .payment("pay-o-8f3a2c"), sequence: 2, occurredAt: placed + .seconds(20), payload: .payment(.completed(PaymentCompleted(
        paymentID: "pay-o-8f3a2c", orderID: order.id, at: placed + .seconds(20))))),
    EventEnvelope(aggregateID: .order(order.id), sequence: 2, occurredAt: placed + .seconds(20), payload: .order(.paid(OrderPaid(
        orderID: order.id, paymentID: "pay-o-8f3a2c", at: placed + .seconds(20))))),
]
let rounds = 50_000
let sortedFoundation = JSONEncoder()
sortedFoundation.outputFormatting = [.sortedKeys]
let orderJSON = try CompactJSONEncoder().string(paid), eventsJSON = try CompactJSONEncoder(sortedKeys: true).string(events)
func compare(_ name: String, ours: () throws -> Int, foundation: () throws -> Int) rethrows {
    let (oursCPU, _) = try median(5) { try (0..<rounds).reduce(0) { sum, _ in sum &+ (try ours()) } }
    let (theirsCPU, _) = try median(5) { try (0..<rounds).reduce(0) { sum, _ in sum &+ (try foundation()) } }
    print("\(name): \(f(oursCPU / Double(rounds) * 1e6, 2)) µs against \(f(theirsCPU / Double(rounds) * 1e6, 2)) µs (RATIO \(f(theirsCPU / oursCPU, 1))× faster; median of 5 runs of \(rounds))")
}
try compare("encode an order", ours: { try CompactJSONEncoder().bytes(paid).count }, foundation: { try JSONEncoder().encode(paid).count })
try compare("decode an order", ours: { try CompactJSONDecoder().decode(Order.self, from: orderJSON).version }, foundation: {
    try JSONDecoder().decode(Order.self, from: Data(orderJSON.utf8)).version
})
try compare("encode a payment's outbox events (sorted keys)", ours: { try CompactJSONEncoder(sortedKeys: true).bytes(events).count }, foundation: {
    try sortedFoundation.encode(events).count
})
try compare("decode a payment's outbox events", ours: { try CompactJSONDecoder().decode([EventEnvelope].self, from: eventsJSON).count }, foundation: {
    try JSONDecoder().decode([EventEnvelope].self, from: Data(eventsJSON.utf8)).count
})
}
