import ArgumentParser
import Foundation
import Live
import LiveAPI
import LiveTools
import LoadTest
import ResultsStore
import Sim

struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Run k6 against a live server with the traffic of a scenario file, and store the measured run.",
        discussion: """
            Seeds the server with the scenario's deals (fresh ids per run), derives the k6 stages, journey and \
            think times from the same file the simulator reads, runs k6/scenario.js, imports k6's per-request \
            points and stores a measured run under the scenario's hash. Compare with `flashdeal compare`.
            """)

    @Option(help: "The scenario file (JSON, see docs/scenario.md).") var scenario: String
    @Option(help: "The live server.") var target = "http://127.0.0.1:8080"
    @Option(help: "How many k6 runs (each on fresh deals).") var `repeat`: Int = 1
    @Option(help: "The k6 binary (default: .venv/flashdeal/k6, else FLASHDEAL_K6).") var k6: String?
    @Option(help: "The k6 script.") var script = "k6/scenario.js"
    @Option(help: "Where k6's plans and outputs go.") var workDirectory = ".run/loadtest"
    @Option(help: "The server's Redis (default: FLASHDEAL_REDIS_URL): with it, each run records the cores the request path kept busy (the server, k6, Redis, the kernel).")
    var redis: String?
    @OptionGroup var before: BeforeRunOption
    @OptionGroup var store: ResultsCommand.StoreOption

    func validate() throws {
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be between 1 and 100") }
    }

    func run() async throws {
        let scenario = try loadScenario(self.scenario)
        let (k6, secret, admin) = try await k6Setup(self.k6)
        var redisCPU: (@Sendable () async throws -> Double)?
        if let redis = redis ?? ProcessInfo.processInfo.environment["FLASHDEAL_REDIS_URL"] {
            do {
                let probe = try await RedisCPUProbe(url: redis)
                redisCPU = { try await probe.cpu() }
            } catch {
                throw ValidationError("--redis \(redis): \(error)")
            }
        }
        let runner = LoadTestRunner(
            scenario: scenario, target: target, k6: k6, script: script, workDirectory: workDirectory, admin: admin, secret: secret,
            loadGeneratorApart: RunMachine.placementTag() == "split", redisCPU: redisCPU)
        let results = try store.open()
        let stamp = Int(Date().timeIntervalSince1970)
        for i in 0..<`repeat` {
            let result: RunResult
            do {
                try before.run { FileHandle.standardError.write(Data("loadtest: \($0)\n".utf8)) }
                result = try await runner.run(tag: "\(stamp)-\(i)") { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            } catch let error as LoadTestError {
                throw ValidationError("\(error)")
            }
            let id = try results.save(result, scenario: scenario, kind: .measured, replication: i, label: RunMachine.label(before: before.beforeRun))
            FileHandle.standardError.write(Data("stored measured run \(id) in \(store.path)\n".utf8))
            print(TableReport.render(result), terminator: "")
        }
    }
}

/// `--before-run`: a shell command run before each k6 run. A simulated run starts from an empty
/// system; `make validate` passes one that starts the server and its backends afresh, so no run
/// is measured behind the backlog, the reservations still to expire and the data of the runs
/// before it.
struct BeforeRunOption: ParsableArguments {
    @Option(help: "A shell command to run before each k6 run (e.g. one that restarts the server on empty backends); a failure stops the command.")
    var beforeRun: String?

    func run(_ say: (String) -> Void) throws {
        guard let beforeRun else { return }
        let start = Date()
        try LoadTestRunner.shell(beforeRun)
        say("ran `\(beforeRun)` (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
    }
}

/// The k6 binary (`--k6`, else FLASHDEAL_K6, else the bootstrap's), the secret k6 signs buyers'
/// tokens with (the server's FLASHDEAL_AUTH_SECRET, or the development one the embedded mode uses)
/// and an admin's `Authorization` for seeding deals.
func k6Setup(_ k6: String?) async throws -> (k6: String, secret: String, admin: String) {
    let k6 = k6 ?? ProcessInfo.processInfo.environment["FLASHDEAL_K6"] ?? ".venv/flashdeal/k6"
    guard FileManager.default.isExecutableFile(atPath: k6) else { throw ValidationError("no k6 at \(k6): run scripts/bootstrap.sh or pass --k6") }
    let secret = try ConfigurationSources(environment: ProcessInfo.processInfo.environment).load().configuration.auth.secret ?? Authenticator.developmentSecret
    let admin = "Bearer " + (try await Authenticator.token(user: "admin", admin: true, ttl: .seconds(86_400), secret: secret))
    return (k6, secret, admin)
}

/// `flashdeal saturation`: the highest rate a mix holds, stepped up on both sides.
struct SaturationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saturation",
        abstract: "Step a scenario's rate up, predicted and (with --target) measured by k6, to the highest rate that holds P95 and errors.",
        discussion: """
            Each step is the scenario with its visit rate set for the step's requests a second; the simulator \
            predicts it (--replications) and k6 measures it once against --target on fresh deals. Each side stops at \
            its first step over --p95-ms or 0.5% errors. Prints the steps and both saturation points, and with \
            --document replaces that section of the document.
            """)

    @Option(help: "The scenario whose mix is stepped (its rate is replaced).") var scenario: String
    @Option(help: "The first step, requests/s.") var from = 1000.0
    @Option(help: "The step, requests/s.") var step = 250.0
    @Option(help: "The last step, requests/s.") var to = 4000.0
    @Option(help: "The P95 a level must hold, ms.") var p95Ms = 150.0
    @Option(help: "Replications per predicted step.") var replications = 3
    @Option(help: "The live server to measure (none: predicted only).") var target: String?
    @Option(help: "The k6 binary (default: .venv/flashdeal/k6, else FLASHDEAL_K6).") var k6: String?
    @Option(help: "The k6 script.") var script = "k6/scenario.js"
    @Option(help: "Where k6's plans and outputs go.") var workDirectory = ".run/saturation"
    @OptionGroup var before: BeforeRunOption
    @Option(help: "Replace this Markdown document's <!-- SECTION:begin --> … <!-- SECTION:end --> section with the table.") var document: String?
    @Option(help: "The document's section to replace.") var section = "saturation"
    @Option(name: .customLong("set"), help: "A model setting, PATH=VALUE (repeatable), e.g. http.coresPerReplica=1 for a server pinned to one core.") var settings: [String] = []

    func validate() throws {
        guard from > 0, step > 0, to >= from, (to - from) / step <= 100 else { throw ValidationError("--from, --step and --to must give 1 to 100 positive steps") }
        guard (1...100).contains(replications) else { throw ValidationError("--replications must be between 1 and 100") }
    }

    func run() async throws {
        let search = SaturationSearch(scenario: try modelScenario(scenario, settings: settings), from: from, step: step, to: to, p95BarMs: p95Ms)
        func say(_ s: String) { FileHandle.standardError.write(Data("saturation: \(s)\n".utf8)) }
        let predicted = await search.search { level in
            say("predicting \(level.name)")
            return Simulator.replicate(level, count: replications)
        }
        var measured = SaturationSearch.Side()
        if let target {
            let (k6, secret, admin) = try await k6Setup(self.k6)
            let stamp = Int(Date().timeIntervalSince1970)
            do {
                measured = try await search.search { level in
                    try before.run(say)
                    say("measuring \(level.name) with k6")
                    let runner = LoadTestRunner(scenario: level, target: target, k6: k6, script: script, workDirectory: workDirectory, admin: admin, secret: secret)
                    return [try await runner.run(tag: "\(stamp)-\(Int(level.peakRequestsPerSecond))")]
                }
            } catch let error as LoadTestError {
                throw ValidationError("\(error)")
            }
        }
        let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
        let table = "Stepped \(date) on \(RunMachine.describe()), \(search.scenario.name)'s mix.\n\n"
            + SaturationSearch.markdown(name: search.scenario.name, predicted: predicted, measured: measured, p95BarMs: p95Ms)
        print(table, terminator: "")
        if let document { try replaceSection(section, of: document, with: table, by: "saturation") }
    }
}

/// `flashdeal drain`: the writer tier's backlog and catch-up after a load, predicted and measured.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Run a scenario once with k6 while watching the writer, and compare its backlog and catch-up with the simulator's.",
        discussion: """
            Waits until the writer has nothing waiting, runs k6 once (fresh deals) while sampling the writer's \
            /metrics every half second (outbox entries, Kafka lag, messages written) until it has caught up, and \
            compares the peak of messages waiting and the seconds from the end of the load to the last write with \
            the simulator's Kafka lag peak and drain (--replications), target ±20%. With --document, replaces that \
            section of the document.
            """)

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "The live server (its API).") var target = "http://127.0.0.1:8080"
    @Option(help: "Its writer (serve --role writer).") var writer = "http://127.0.0.1:8081"
    @Option(help: "Replications to predict.") var replications = 5
    @Option(help: "Seconds to wait for the writer to catch up, before and after the load.") var limit = 900.0
    @Option(help: "The k6 binary (default: .venv/flashdeal/k6, else FLASHDEAL_K6).") var k6: String?
    @Option(help: "The k6 script.") var script = "k6/scenario.js"
    @Option(help: "Where k6's plans and outputs go.") var workDirectory = ".run/drain"
    @Option(help: "Replace this Markdown document's <!-- SECTION:begin --> … <!-- SECTION:end --> section with the table.") var document: String?
    @Option(help: "The document's section to replace.") var section = "writer-drain"
    @Option(name: .customLong("set"), help: "A model setting, PATH=VALUE (repeatable), e.g. http.coresPerReplica=1 for a server pinned to one core.") var settings: [String] = []

    func validate() throws {
        guard (1...100).contains(replications) else { throw ValidationError("--replications must be between 1 and 100") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let scenario = try modelScenario(self.scenario, settings: settings)
        func say(_ s: String) { FileHandle.standardError.write(Data("drain: \(s)\n".utf8)) }
        guard scenario.http.machine?.writer != nil else {
            throw ValidationError("\(self.scenario) has no http.machine.writer: include the calibration's -writer.json (flashdeal calibrate --writer)")
        }
        let probe = WriterProbe(writer: writer)
        let (k6, secret, admin) = try await k6Setup(self.k6)
        let measured: WriterDrain
        do {
            say("waiting for the writer to catch up first")
            _ = try await probe.watch(limit: limit)
            let runner = LoadTestRunner(scenario: scenario, target: target, k6: k6, script: script, workDirectory: workDirectory, admin: admin, secret: secret)
            say("running \(scenario.name) with k6, watching \(writer)")
            measured = try await probe.watch(limit: limit) { _ = try await runner.run(tag: "drain-\(Int(Date().timeIntervalSince1970))") }
        } catch let error as LoadTestError {
            throw ValidationError("\(error)")
        }
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let samples = (workDirectory as NSString).appendingPathComponent("writer-samples.json")
        try writePrettyJSON(measured, to: samples)
        say("the writer's samples: \(samples)")
        say("predicting \(replications) replications")
        let predicted = Simulator.replicate(scenario, count: replications)
        let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
        let table = "Measured \(date) on \(RunMachine.describe()), \(scenario.name), one k6 run.\n\n" + measured.markdown(predicted: predicted)
        print(table, terminator: "")
        if let document { try replaceSection(section, of: document, with: table, by: "drain") }
    }
}

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Predicted against measured for one scenario: a table and an HTML report with both series on the same charts.",
        discussion: """
            Takes the scenario's stored predicted runs (simulating --replications now when there are none) and its \
            measured runs, and reports each metric's prediction interval, the measured mean, the relative error and \
            whether the measurement lies inside the interval, overall and per 5-second window. With --prometheus \
            the measured side is what the shop's own metrics recorded between --from and --to (a production sale, \
            no k6), stored as a measured run labelled prometheus.
            """)

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "Replications to simulate when the store has no predicted run of this scenario.") var replications = 10
    @Option(help: "Use only the newest N measured runs.") var measured = 10
    @Option(help: "Write the HTML report to this file.") var report: String?
    @Option(help: "The relative error a prediction may have.") var tolerance = 0.15
    @Flag(help: "Simulate the replications now even when the store has predicted runs (after a model change).") var freshPredictions = false
    @Option(help: "Read the measured side from this Prometheus (its URL) over --from ... --to instead of stored k6 runs.") var prometheus: String?
    @Option(help: "With --prometheus: the sale's start, RFC 3339 (2026-12-02T15:00:00Z) or Unix seconds.") var from: String?
    @Option(help: "With --prometheus: the sale's end, RFC 3339 or Unix seconds.") var to: String?
    @OptionGroup var store: ResultsCommand.StoreOption

    func validate() throws {
        guard (prometheus == nil) == (from == nil && to == nil) else { throw ValidationError("--prometheus, --from and --to go together") }
        if prometheus != nil {
            guard let start = from.flatMap(Self.instant), let end = to.flatMap(Self.instant) else {
                throw ValidationError("--from and --to take RFC 3339 times (2026-12-02T15:00:00Z) or Unix seconds")
            }
            guard end > start, end.timeIntervalSince(start) <= 86_400 else { throw ValidationError("--to must be after --from, by at most a day") }
        }
    }

    static func instant(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ISO8601DateFormatter().date(from: text) ?? formatter.date(from: text)
    }

    func run() async throws {
        let scenario = try loadScenario(self.scenario)
        let results = try store.open()
        if let prometheus, let start = from.flatMap(Self.instant), let end = to.flatMap(Self.instant) {
            do {
                let run = try await PrometheusMeasurement(url: prometheus, from: start, to: end).run(scenario: scenario)
                try results.save(run, scenario: scenario, kind: .measured, label: "prometheus \(prometheus) \(from ?? "")..\(to ?? "")")
            } catch let error as LoadTestError { throw ValidationError("\(error)") }
        }
        let measuredRuns = prometheus != nil
            ? Array(try measuredRuns(of: scenario, path: self.scenario, in: results, store: store, limit: 1))
            : try measuredRuns(of: scenario, path: self.scenario, in: results, store: store, limit: measured)
        var predicted = freshPredictions
            ? [] : try results.runs(limit: 1000, scenarioHash: scenario.hash, kind: .predicted).compactMap { try results.run($0.id)?.1 }
        if predicted.isEmpty {
            predicted = Simulator.replicate(scenario, count: replications)
            for (i, r) in predicted.enumerated() { try results.save(r, scenario: scenario, replication: i) }
        }
        let comparison = Comparison(predicted: predicted, measured: measuredRuns, tolerance: tolerance)
        print(comparison.table(), terminator: "")
        if let report {
            try comparison.html().write(toFile: report, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("report: \(report)\n".utf8))
        }
    }
}

/// Replaces `document`'s `<!-- section:begin -->` … `<!-- section:end -->` with `table`, and says so
/// as `command`.
func replaceSection(_ section: String, of document: String, with table: String, by command: String) throws {
    let text = try String(contentsOfFile: document, encoding: .utf8)
    try LevelValidation.splice(table, into: text, section: section).write(toFile: document, atomically: true, encoding: .utf8)
    FileHandle.standardError.write(Data("\(command): updated \(document)'s \(section) section\n".utf8))
}

/// `value` as sorted, indented JSON at `path` (a record a person reads and a test reads back).
func writePrettyJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}

/// A scenario file as the model predicts it: each `--set PATH=VALUE` applied (a sweep of one
/// point), e.g. `http.coresPerReplica=1` for a server pinned to one core.
func modelScenario(_ path: String, settings: [String]) throws -> Scenario {
    guard !settings.isEmpty else { return try loadScenario(path) }
    let axes = try settings.map { setting in
        let axis = try Sweep.Axis(parsing: setting)
        guard axis.values.count == 1 else { throw ValidationError("--set \(setting): one value (sweep varies several)") }
        return axis
    }
    let url = URL(fileURLWithPath: path)
    do {
        return try Sweep(document: try Data(contentsOf: url), directory: url.deletingLastPathComponent().path, axes: axes).points[0].scenario
    } catch {
        throw ValidationError("\(path): \(error)")
    }
}

/// The newest `limit` measured runs of a scenario, or an error saying how to make one.
func measuredRuns(of scenario: Scenario, path: String, in results: ResultsStore, store: ResultsCommand.StoreOption, limit: Int) throws -> [RunResult] {
    let runs = try results.runs(limit: limit, scenarioHash: scenario.hash, kind: .measured).compactMap { try results.run($0.id)?.1 }
    guard !runs.isEmpty else {
        throw ValidationError("\(store.path) holds no measured run of \(scenario.name) (hash \(scenario.hash)): run `flashdeal loadtest --scenario \(path)` first")
    }
    return runs
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Calibrate on one load level, predict the others, and compare each with its measured runs.",
        discussion: """
            Fits one factor on the HTTP tier's CPU time per operation so that the simulator's mean P95 at the \
            calibration level equals that level's measured mean P95, predicts every level with it (--replications \
            each), and compares each with its stored k6 runs: prediction intervals, relative errors, 5-second \
            windows and the component behind each miss. Writes the fitted factor as a calibration file and, with \
            --document, the table into the document's levels section. `make validate` runs the whole loop.
            """)

    @Option(name: .customLong("scenario"), help: "A load level's scenario file (repeat for each level).") var scenarios: [String]
    @Option(help: "The level to calibrate on (default: the first --scenario).") var calibrateOn: String?
    @Flag(help: "Fit no CPU factor: predict with the CPU per request as the scenarios' calibration gives it.") var noFit = false
    @Option(help: "Replications per level.") var replications = 10
    @Option(help: "Use only the newest N measured runs of each level.") var measured = 5
    @Option(help: "The relative error a prediction may have.") var tolerance = 0.15
    @Option(name: .customLong("set"), help: "A model setting for the predictions, PATH=VALUE as in `sweep --vary` (repeatable), e.g. http.coresPerReplica=2; the measured runs stay the scenario file's.") var settings: [String] = []
    @Option(help: "Write the fitted CPU factor as a calibration file here.") var writeCalibration: String?
    @Option(help: "Replace this Markdown document's <!-- SECTION:begin --> … <!-- SECTION:end --> section with the table.") var document: String?
    @Option(help: "The document's section to replace (its markers' name).") var section = "levels"
    @OptionGroup var store: ResultsCommand.StoreOption

    func validate() throws {
        guard !scenarios.isEmpty else { throw ValidationError("give at least one --scenario") }
        guard (2...1000).contains(replications) else { throw ValidationError("--replications must be between 2 and 1000") }
    }

    func run() throws {
        let results = try store.open()
        // Each level as its file says (its measured runs are stored under that file's hash) and as
        // the model predicts it (with --set applied).
        func level(_ path: String) throws -> (path: String, measured: Scenario, model: Scenario) {
            (path, try loadScenario(path), try modelScenario(path, settings: settings))
        }
        let levels = try scenarios.map(level)
        let calibrationPath = calibrateOn ?? scenarios[0]
        let calibrationLevel = try levels.first { $0.path == calibrationPath } ?? level(calibrationPath)
        let calibration = calibrationLevel.model
        var fit: CPUScaleFit?
        if !noFit {
            let calibrationRuns = try measuredRuns(of: calibrationLevel.measured, path: calibrationPath, in: results, store: store, limit: measured)
            let target = calibrationRuns.map(\.overall.p95Ms).reduce(0, +) / Double(calibrationRuns.count)
            FileHandle.standardError.write(Data("validate: fitting the CPU factor on \(calibration.name) (measured P95 \(String(format: "%.1f", target)) ms)\n".utf8))
            fit = CPUScaleFit.fit(calibration, measuredP95Ms: target)
        }
        var validated: [LevelValidation.Level] = []
        for level in levels {
            let measuredRuns = try measuredRuns(of: level.measured, path: level.path, in: results, store: store, limit: measured)
            FileHandle.standardError.write(Data("validate: predicting \(level.model.name) (\(replications) replications)\n".utf8))
            let predicted = Simulator.replicate(level.model.scalingCPU(by: fit?.scale ?? 1), count: replications)
            let comparison = Comparison(predicted: predicted, measured: measuredRuns, tolerance: tolerance)
            print(comparison.table())
            validated.append(LevelValidation.Level(offeredRps: level.model.peakRequestsPerSecond, comparison: comparison))
        }
        let validation = LevelValidation(fit: fit, calibratedOn: calibration.name, settings: settings, levels: validated)
        let date = ISO8601DateFormatter().string(from: Date())
        let table = validation.markdown(date: String(date.prefix(10)), machine: RunMachine.describe())
        print(table, terminator: "")
        if let writeCalibration, let fit {
            let description = "CPU per operation of \(calibration.name) scaled by \(String(format: "%.3f", fit.scale)), fitted by flashdeal validate on \(date) on \(RunMachine.describe()) to its measured P95 of \(String(format: "%.1f", fit.targetP95Ms)) ms."
            try calibration.cpuCalibrationJSON(scale: fit.scale, description: description).write(to: URL(fileURLWithPath: writeCalibration))
            FileHandle.standardError.write(Data("validate: wrote \(writeCalibration)\n".utf8))
        }
        if let document { try replaceSection(section, of: document, with: table, by: "validate") }
    }
}
