import Foundation
import Sim
import Testing

@Suite struct ScenarioValidationTests {
    static let minimal = #"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}]}"#

    func error(_ json: String) -> ScenarioError? {
        do {
            _ = try Scenario.parse(Data(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func minimalScenarioParses() throws {
        let s = try Scenario.parse(Data(Self.minimal.utf8))
        #expect(s.deals[0].stock == 5 && s.traffic.stages[0].duration == 1_000_000_000)
    }

    @Test(arguments: [
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"htp":{}}"#, "$.htp", "not a known key"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":"10"}]},"deals":[{"id":"d","stock":5}]}"#, "$.traffic.stages[0].target", "expected a number, found the string \"10\""),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":-1}]}"#, "$.deals[0].stock", "expected an integer in 0..."),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"http":{"replicas":0}}"#, "$.http.replicas", "expected an integer in 1...1000"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"mongo":{"read":{"type":"gamma"}}}"#, "$.mongo.read.type", "expected one of"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}],"arrivalProcess":"bursty"},"deals":[{"id":"d","stock":5}]}"#, "$.traffic.arrivalProcess", "expected one of \"poisson\", \"evenlySpaced\""),
        (#"{"name":"t","traffic":{"stages":[]},"deals":[{"id":"d","stock":5}]}"#, "$.traffic.stages", "at least one stage"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5,"reservationTtlSeconds":10,"paymentWindowSeconds":20}]}"#, "$.deals[0].paymentWindowSeconds", "at most reservationTtlSeconds"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"bad id!","stock":5}]}"#, "$.deals[0].id", "may contain only"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"autoscaling":{"minReplicas":5,"maxReplicas":2}}"#, "$.autoscaling.maxReplicas", "at least minReplicas"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":1.5}]}"#, "$.deals[0].stock", "expected an integer"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"seed":true}"#, "$.seed", "found true"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}"#, "$", "not valid JSON"),
        (#"[1,2]"#, "$", "expected an object"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"faults":[{"component":"disk","atSeconds":1,"durationSeconds":2}]}"#, "$.faults[0].component", "expected one of \"api\""),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"faults":[{"component":"broker","atSeconds":1,"durationSeconds":0}]}"#, "$.faults[0].durationSeconds", "expected a number in 0.001"),
        (#"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"http":{"machine":{"writer":{"cores":1}}}}"#, "$.http.machine.writer.cpuPerMessage", "is required (a distribution)"),
    ])
    func badInputNamesThePathAndWhatWasExpected(_ json: String, _ path: String, _ message: String) {
        guard let e = error(json) else { Issue.record("accepted \(json)"); return }
        #expect(e.path == path, "\(e)")
        #expect(e.message.contains(message), "\(e)")
    }

    @Test func shippedExperimentsAllParse() throws {
        let folder = Fixtures.root.appendingPathComponent("experiments")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        #expect(files.contains("flash-spike.json") && files.contains("mmc-validation.json"))
        for file in files { _ = try Scenario.load(path: folder.appendingPathComponent(file).path) }
        // `flashdeal fairness`'s scenarios are of their own kind.
        let fairness = folder.appendingPathComponent("fairness")
        let fairnessFiles = try FileManager.default.contentsOfDirectory(atPath: fairness.path).filter { $0.hasSuffix(".json") }
        #expect(fairnessFiles.contains("bots.json"))
        for file in fairnessFiles { _ = try FairnessScenario.load(path: fairness.appendingPathComponent(file).path) }
    }

    @Test func sweepReportsBadPaths() {
        #expect(throws: ScenarioError.self) {
            _ = try Sweep(document: Data(Self.minimal.utf8), directory: ".", axes: [try .init(parsing: "deals[3].stock=1")])
        }
        #expect(throws: ScenarioError.self) { _ = try Sweep.Axis(parsing: "novalue") }
    }
}

@Suite struct EmpiricalFileTests {
    @Test func histogramFileIsReadRelativeToTheScenario() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-hist-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "valueMs,count\n1,1\n3,3\n".write(to: dir.appendingPathComponent("cpu.csv"), atomically: true, encoding: .utf8)
        let json = #"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":10}]},"deals":[{"id":"d","stock":5}],"http":{"cpu":{"viewDeal":{"type":"empirical","histogramFile":"cpu.csv"}}}}"#
        let s = try Scenario.parse(Data(json.utf8), directory: dir.path)
        #expect(abs(s.http.cpu[Scenario.Operation.viewDeal.rawValue].mean - 2.5e6) < 1e-6)
        try "valueMs,count\n1,x\n".write(to: dir.appendingPathComponent("cpu.csv"), atomically: true, encoding: .utf8)
        #expect(throws: ScenarioError.self) { _ = try Scenario.parse(Data(json.utf8), directory: dir.path) }
    }
}
