public import Sim
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `flashdeal loadtest`: seeds the live server with the scenario's catalogue and stock (admin
/// mutations over GraphQL), runs k6 with the plan derived from the same scenario, reads the deals'
/// counters back, and returns the measured run.
public struct LoadTestRunner: Sendable {
    public var scenario: Scenario
    public var target: String
    public var k6: String
    public var script: String
    public var workDirectory: String
    /// The `Authorization` the seeding mutations send: an admin's bearer token.
    public var admin: String
    /// The HS256 secret k6 signs each buyer's token with (the server's `auth.secret`).
    public var secret: String
    /// Redis's CPU seconds so far (`INFO cpu`). With it, each run records the cores the request
    /// path kept busy (``RunResult/cores``): the server's `process_cpu_seconds_total`, k6's own
    /// CPU, Redis's and the kernel's interrupt and steal time (`/proc/stat`) around the k6 run.
    public var redisCPU: (@Sendable () async throws -> Double)?
    /// k6 runs on cores of its own (`FLASHDEAL_PIN=split`): its CPU is not the request path's.
    public var loadGeneratorApart: Bool

    public init(
        scenario: Scenario, target: String, k6: String, script: String, workDirectory: String, admin: String, secret: String,
        loadGeneratorApart: Bool = false, redisCPU: (@Sendable () async throws -> Double)? = nil
    ) {
        self.redisCPU = redisCPU
        self.loadGeneratorApart = loadGeneratorApart
        self.admin = admin
        self.secret = secret
        self.scenario = scenario
        self.target = target.hasSuffix("/") ? String(target.dropLast()) : target
        self.k6 = k6
        self.script = script
        self.workDirectory = workDirectory
    }

    /// One k6 run on fresh deals; `log` receives progress lines.
    public func run(tag: String, log: @Sendable (String) -> Void = { _ in }) async throws -> RunResult {
        let plan = try K6Plan(scenario: scenario, target: target, runTag: tag)
        for caveat in plan.caveats { log("note: \(caveat)") }
        try await seed(plan)
        // Absolute: k6 resolves open() against the script's folder.
        let base = workDirectory.hasPrefix("/") ? workDirectory : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(workDirectory)
        let directory = (base as NSString).appendingPathComponent(tag)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let planPath = (directory as NSString).appendingPathComponent("plan.json")
        let pointsPath = (directory as NSString).appendingPathComponent("points.json")
        try plan.json().write(to: URL(fileURLWithPath: planPath))
        log("k6: \(plan.stages.count) stages, up to \(plan.maxVUs) VUs, against \(target)")
        let before = await cpuReading(log: log)
        let k6CPU = try runK6(plan: planPath, points: pointsPath, summary: (directory as NSString).appendingPathComponent("summary.json"), timeoutMs: plan.timeoutMs)
        let after = await cpuReading(log: log)
        let results = try K6Results.read(path: pointsPath)
        var counters: [K6Results.DealCounters] = []
        for deal in plan.deals { if let c = try await dealCounters(deal.id) { counters.append(c) } }
        var result = results.result(scenario: scenario, counters: counters)
        if let before, let after {
            result.cores = Self.cores(
                server: after.server - before.server, loadGenerator: loadGeneratorApart ? 0 : k6CPU, redis: after.redis - before.redis,
                machine: after.machine - before.machine, over: result.arrivalSeconds)
        }
        return result
    }

    /// The server's, Redis's and the machine's CPU so far; nil (with a note) when one cannot be
    /// read: the run then records no cores.
    func cpuReading(log: (String) -> Void) async -> (server: Double, redis: Double, machine: MachineCPU)? {
        guard let redisCPU else { return nil }
        do {
            let server = try await MetricsScrape.processCPU(target)
            return (server, try await redisCPU(), MachineCPU.now())
        } catch {
            log("note: the request path's CPU is not recorded: \(error)")
            return nil
        }
    }

    /// Cores busy over `seconds`: the request path (the server, k6 unless it has cores of its
    /// own, Redis, the kernel's interrupt work and the hypervisor's steal) and the server's.
    static func cores(server: Double, loadGenerator: Double, redis: Double, machine: MachineCPU, over seconds: Double) -> RunResult.Cores? {
        guard seconds > 0 else { return nil }
        let path = server + loadGenerator + redis + machine.interrupts + machine.steal
        return RunResult.Cores(requestPath: path / seconds, server: server / seconds)
    }

    func runK6(plan: String, points: String, summary: String, timeoutMs: Double) throws -> Double {
        try Self.k6(k6, [
            "run", "--quiet", "--out", "json=\(points)", "--summary-export", summary,
            "--system-tags", "status,method,scenario,expected_response", "-e", "PLAN=\(plan)", "-e", "TARGET=\(target)", "-e", "SECRET=\(secret)",
            "-e", "TIMEOUT_MS=\(Int(timeoutMs.rounded(.up)))", script,
        ])
    }

    /// Runs k6 to its end; a run whose thresholds were crossed (exit 99) is still a measurement.
    /// Returns the CPU seconds it used (user and system, from its own rusage: `wait4` on it, so
    /// other children of this process, such as a test's, never count).
    @discardableResult
    static func k6(_ k6: String, _ arguments: [String]) throws -> Double {
        try spawn(k6, arguments, name: "k6", succeeds: [0, 99])
    }

    /// Runs `path` with `arguments` to its end, its output discarded; throws unless it exits with
    /// one of `succeeds`, naming it (`name`), how it ended and the end of what it wrote to stderr.
    /// Returns the CPU seconds it used.
    @discardableResult
    static func spawn(_ path: String, _ arguments: [String], name: String, succeeds: Set<Int32> = [0]) throws -> Double {
        let errors = Pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errors.fileHandleForWriting.fileDescriptor, 2)
        // Only as its stderr: a process it leaves running (a server a --before-run command starts)
        // must not hold the pipe open, or reading it to its end would wait for that process.
        posix_spawn_file_actions_addclose(&actions, errors.fileHandleForWriting.fileDescriptor)
        posix_spawn_file_actions_addclose(&actions, errors.fileHandleForReading.fileDescriptor)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        try? errors.fileHandleForWriting.close()
        guard spawned == 0 else { throw LoadTestError("cannot start \(name) at \(path): \(String(cString: strerror(spawned)))") }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        var status: Int32 = 0, usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw LoadTestError("waiting for \(name): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited, succeeds.contains(code) else {
            throw LoadTestError("\(name) exited with \(exited ? "status \(code)" : "signal \(status & 0x7f)"): \(String(decoding: stderr.suffix(2000), as: UTF8.self))")
        }
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Runs `command` with `/bin/sh -c` to its end (`flashdeal loadtest --before-run`): what a
    /// measurement needs done before each k6 run; throws naming the command when it fails.
    public static func shell(_ command: String) throws {
        try spawn("/bin/sh", ["-c", command], name: "--before-run '\(command)'")
    }

    /// Creates each deal's product and the deal, and starts it when its start is now.
    func seed(_ plan: K6Plan) async throws {
        let now = Date()
        for (spec, deal) in zip(scenario.deals, plan.deals) {
            let product = "p-\(deal.id)"
            try await mutation(#"mutation($in: CreateProductInput!) { createProduct(input: $in) { __typename } }"#,
                               ["in": ["id": product, "name": "Load test item \(spec.id)", "description": scenario.name]], expect: "ProductCreated")
            let starts = now.addingTimeInterval(Double(spec.startsAt) / 1e9 - (spec.startsAt == 0 ? 1 : 0))
            let ends = now.addingTimeInterval(Double(spec.endsAt) / 1e9)
            let iso = ISO8601DateFormatter()
            try await mutation(#"mutation($in: ScheduleDealInput!) { scheduleDeal(input: $in) { __typename } }"#, ["in": [
                "id": deal.id, "productId": product, "price": Int(spec.price), "startsAt": iso.string(from: starts), "endsAt": iso.string(from: ends),
                "perUserLimit": spec.perUserLimit, "stock": spec.stock, "reservationTtlSeconds": Int(spec.reservationTTL / 1_000_000_000),
                "paymentWindowSeconds": Int(spec.paymentWindow / 1_000_000_000),
                // The scenario's buyer rules, not the API's defaults: the simulator enforces the same.
                "reservationCap": spec.reservationCap, "cancelCoolDownSeconds": Int((Double(spec.cancelCoolDown) / 1e9).rounded(.up)),
            ]], expect: "DealUpdated")
            if spec.startsAt == 0 {
                try await mutation(#"mutation($id: ID!) { startDeal(id: $id) { __typename } }"#, ["id": deal.id], expect: "DealUpdated")
            }
        }
    }

    func dealCounters(_ deal: String) async throws -> K6Results.DealCounters? {
        let data = try await post(#"query($id: ID!) { deal(id: $id) { available reserved sold } }"#, ["id": deal])
        guard let d = (data["deal"] as? [String: Any]), let a = d["available"] as? Int, let r = d["reserved"] as? Int, let s = d["sold"] as? Int
        else { return nil }
        let total = scenario.deals.first { deal.hasPrefix("\($0.id)-") }.map(\.stock) ?? (a + r + s)
        return .init(total: total, available: a, reserved: r, sold: s)
    }

    func mutation(_ query: String, _ variables: [String: Any], expect: String) async throws {
        try await AdminClient(target: target, authorization: admin).mutation(query, variables, expect: expect)
    }

    func post(_ query: String, _ variables: [String: Any]) async throws -> [String: Any] {
        try await AdminClient(target: target, authorization: admin).post(query, variables)
    }
}
