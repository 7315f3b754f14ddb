import Foundation
import LoadTest
import Sim
import Testing

/// A sale's measured run from Prometheus's answers: totals, outcomes, percentiles and series as
/// `flashdeal compare --prometheus` builds them (the drill in `make test` asks a real Prometheus).
@Suite struct PrometheusMeasurementTests {
    typealias Sample = PrometheusMeasurement.Sample

    @Test func answersBecomeAMeasuredRun() throws {
        let scenario = try Scenario.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments/smoke.json").path)
        let instant: [String: [Sample]] = [
            "requests": [Sample(labels: [:], value: 1000.4)],
            "errors": [Sample(labels: [:], value: 5)],
            "shed": [],
            "operationRequests": [Sample(labels: ["operation": "placeOrder"], value: 400), Sample(labels: ["operation": "payOrder"], value: 200)],
            "operationSeconds": [Sample(labels: ["operation": "placeOrder"], value: 8), Sample(labels: ["operation": "payOrder"], value: 6)],
            "outcomes": [
                Sample(labels: ["operation": "placeOrder", "outcome": "OrderPlaced"], value: 300),
                Sample(labels: ["operation": "placeOrder", "outcome": "SoldOut"], value: 90),
                Sample(labels: ["operation": "placeOrder", "outcome": "PurchaseLimitExceeded"], value: 10),
                Sample(labels: ["operation": "payOrder", "outcome": "OrderPaid"], value: 199.6),
            ],
            "p95": [Sample(labels: [:], value: 0.12)],
            "operationP95": [Sample(labels: ["operation": "placeOrder"], value: 0.14), Sample(labels: ["operation": "payOrder"], value: .nan)],
            "maxLag": [Sample(labels: [:], value: 2500)],
            "imbalance": [Sample(labels: [:], value: 0)],
        ]
        let series = ["rps": [0, 50, 100, 100], "p95": [0.01, 0.02, 0.03, 0.04], "lag": [0, 100, 2500, 10], "p95.5s": [0.05]]
        let run = PrometheusMeasurement.result(scenario: scenario, seconds: 10, instant: instant, series: series, source: "http://p")
        #expect(run.throughput.requests == 1000 && run.throughput.achievedRps == 100 && run.throughput.peakOfferedRps == 100)
        #expect(run.rates.errorRate == 0.005 && run.overall.errors == 5)
        #expect(run.overall.p95Ms == 120)
        #expect(run.orders.accepted == 300 && run.orders.paid == 200 && run.orders.soldOutAnswers == 90 && run.orders.limitAnswers == 10)
        let place = try #require(run.operations.first { $0.name == "placeOrder" })
        #expect(place.requests == 400 && place.business == 100 && place.ok == 300 && place.p95Ms == 140 && place.meanMs == 20)
        #expect(run.operations.first { $0.name == "payOrder" }?.p95Ms == 0, "a NaN percentile (no request in a bucket) reads 0")
        #expect(run.kafka.maxLag == 2500 && run.kafka.maxLagAtSeconds == 2)
        #expect(run.series.p95Ms == [10, 20, 30, 40] && run.series.p95Ms5s == [50])
        #expect(run.orders.conservationHolds)
        #expect(!PrometheusMeasurement.result(
            scenario: scenario, seconds: 10, instant: ["imbalance": [Sample(labels: [:], value: 1)]], series: [:], source: "p").orders.conservationHolds)
    }
}
