public import Sim
import Foundation

/// What `flashdeal calibrate` measured under load: open-model k6 phases at a moderate rate, each a
/// fixed sequence of operations, with the CPU the server (its own `process_cpu_seconds_total`), the
/// load generator (k6, a child process: its rusage) and Redis (`INFO cpu`) spent over each, and the
/// scheduler's wake-up delay seen by a thread that sleeps 1 ms at a time, quiet and over each phase.
/// ``fit()`` turns the phases into CPU per request of each operation (least squares, so a payment
/// is what a place-and-pay iteration costs beyond a place). Written beside the calibration
/// (`<name>-phases.json`) so the arithmetic can be checked, and redone, on a recorded run.
public struct LoadCalibration: Sendable, Codable, Hashable {
    public struct Phase: Sendable, Codable, Hashable {
        public var name: String
        /// Wall-clock seconds the phase's k6 run took.
        public var seconds: Double
        /// Requests k6 made, by operation (the simulator's names).
        public var requests: [String: Double]
        /// CPU seconds over the phase.
        public var server: Double
        public var loadGenerator: Double
        public var redis: Double
        /// Every core's busy time (user, system, interrupts, and time the hypervisor took:
        /// /proc/stat), of which the kernel's interrupt work and the hypervisor's (steal). The
        /// writer and the backends in the idle scheduling class are in `machine` only.
        public var machine: Double
        public var interrupts: Double
        public var steal: Double
        /// The wake-up probe's lateness over the phase.
        public var wakeUp: WakeUp
        /// Each operation's time as k6 measured it (nil in calibrations recorded before it was kept).
        public var latency: [String: Quantiles]?

        /// The requests a second k6 achieved over the phase.
        public var requestsPerSecond: Double { requests.values.reduce(0, +) / seconds }

        public init(
            name: String, seconds: Double, requests: [String: Double], server: Double, loadGenerator: Double, redis: Double,
            machine: Double, interrupts: Double, steal: Double, wakeUp: WakeUp, latency: [String: Quantiles]? = nil
        ) {
            self.latency = latency
            self.wakeUp = wakeUp
            self.name = name
            self.seconds = seconds
            self.requests = requests
            self.server = server
            self.loadGenerator = loadGenerator
            self.redis = redis
            self.machine = machine
            self.interrupts = interrupts
            self.steal = steal
        }

        /// What competes with the server for the cores: k6, Redis, the kernel's interrupt work, the
        /// hypervisor (not the writer and backends in the idle class: they only take what is left).
        public var others: Double { loadGenerator + redis + interrupts + steal }
    }

    /// What each process spends with no load: the server's and Redis's CPU per second (timers,
    /// listeners), the kernel's interrupts and the hypervisor's steal per second, and k6's CPU to
    /// start and stop a run with next to no requests.
    public struct Baseline: Sendable, Codable, Hashable {
        public var serverPerSecond: Double
        public var redisPerSecond: Double
        public var kernelPerSecond: Double
        public var loadGeneratorRun: Double
        /// Every core's busy time per second on the quiet machine (nil in calibrations recorded
        /// before it was kept).
        public var machinePerSecond: Double?
        /// Every core's busy time per second in each slice of the quiet window, in order; the
        /// figures above are the quietest slice's (nil: one window, in calibrations recorded
        /// before it was sliced).
        public var slicesMachinePerSecond: [Double]?

        public init(
            serverPerSecond: Double, redisPerSecond: Double, kernelPerSecond: Double, loadGeneratorRun: Double, machinePerSecond: Double? = nil,
            slicesMachinePerSecond: [Double]? = nil
        ) {
            self.serverPerSecond = serverPerSecond
            self.redisPerSecond = redisPerSecond
            self.kernelPerSecond = kernelPerSecond
            self.loadGeneratorRun = loadGeneratorRun
            self.machinePerSecond = machinePerSecond
            self.slicesMachinePerSecond = slicesMachinePerSecond
        }

        /// The quiet machine from the quietest of `slices` (the least busy machine): a disturbance
        /// of the box (the hypervisor's steal, another tenant, a daemon waking up) only adds CPU,
        /// and the baseline is subtracted from every phase, so one disturbed second would take
        /// that CPU off the others' CPU predicted at every rate (a calibration whose single 3-s
        /// quiet window read 0.157 cores of interrupts and steal, against 0.000 to 0.007 in the six
        /// before it, predicted the journey's request path at 2k requests/s 0.24 cores short).
        /// Also the quietest slice's index (nil: no slices).
        public static func quietest(_ slices: [QuietSlice], loadGeneratorRun: Double) -> (Baseline, index: Int)? {
            guard let index = slices.indices.filter({ slices[$0].seconds > 0 }).min(by: { slices[$0].perSecond(\.machine) < slices[$1].perSecond(\.machine) })
            else { return nil }
            let quiet = slices[index]
            return (Baseline(
                serverPerSecond: quiet.perSecond(\.server), redisPerSecond: quiet.perSecond(\.redis), kernelPerSecond: quiet.perSecond(\.kernel),
                loadGeneratorRun: loadGeneratorRun, machinePerSecond: quiet.perSecond(\.machine),
                slicesMachinePerSecond: slices.map { $0.seconds > 0 ? $0.perSecond(\.machine) : 0 }), index)
        }
    }

    /// CPU seconds over one slice of the quiet window: the server's, Redis's, the kernel's
    /// interrupt work and the hypervisor's steal, and every core's busy time.
    public struct QuietSlice: Sendable, Hashable {
        public var seconds: Double
        public var server: Double
        public var redis: Double
        public var kernel: Double
        public var machine: Double

        public init(seconds: Double, server: Double, redis: Double, kernel: Double, machine: Double) {
            self.seconds = seconds
            self.server = server
            self.redis = redis
            self.kernel = kernel
            self.machine = machine
        }

        func perSecond(_ figure: KeyPath<QuietSlice, Double>) -> Double { self[keyPath: figure] / seconds }
    }

    /// An operation's time at the 5th, 50th and 95th percentiles, in milliseconds.
    public struct Quantiles: Sendable, Codable, Hashable {
        public var p5: Double
        public var p50: Double
        public var p95: Double

        public init(p5: Double, p50: Double, p95: Double) {
            self.p5 = p5
            self.p50 = p50
            self.p95 = p95
        }

        /// The coefficient of variation of a lognormal shifted by a constant with these three
        /// quantiles: (q95 − q50) / (q50 − q5) = e^{1.645σ} whatever the shift and the scale, so
        /// σ = ln of that ratio / 1.645 and the CV is √(e^{σ²} − 1). Nil when the ratio says
        /// nothing of a right tail (not above 1).
        public var shiftedLognormalCV: Double? {
            let upper = p95 - p50, lower = p50 - p5
            guard lower > 0, upper > lower else { return nil }
            let sigma = log(upper / lower) / 1.644_853_6
            return (exp(sigma * sigma) - 1).squareRoot()
        }
    }

    /// A thread's lateness waking from a 1 ms sleep, in microseconds: percentiles of the samples.
    public struct WakeUp: Sendable, Codable, Hashable {
        public var samples: Int
        public var meanUs: Double
        public var sdUs: Double
        public var p50Us: Double
        public var p95Us: Double
        public var p99Us: Double

        public init(samples lateness: [Double]) {
            let sorted = lateness.sorted()
            samples = sorted.count
            let n = Double(max(1, sorted.count))
            meanUs = sorted.reduce(0, +) / n
            let mean = meanUs
            sdUs = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, n - 1)).squareRoot()
            func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.down)))] }
            (p50Us, p95Us, p99Us) = (at(0.5), at(0.95), at(0.99))
        }
    }

    /// CPU per request of each operation, in milliseconds, for the server and for the processes
    /// beside it on the same cores, at the phases' rate; and how each changes with the load.
    public struct Fit: Sendable, Hashable {
        public var server: [String: Double]
        public var loadGenerator: [String: Double]
        public var redis: [String: Double]
        /// Everything on the cores but the server (k6, Redis, the kernel, the hypervisor): the
        /// demand a scenario of this shared box puts beside each request.
        public var others: [String: Double]
        /// One point per journey phase: its request rate, and the CPU the server and everything
        /// else on the cores spent over it against what the per-operation figures make of its
        /// requests (1: the same): the scenario's `http.machine.cpuByRate`.
        public var byRate: [Scenario.Machine.RatePoint]
        /// Each operation's CPU spread (standard deviation over mean): the shape of its time in
        /// the quieter journey phases, where nothing queues (``spread(of:)``).
        public var spread: [String: Double]
    }

    /// The spread a figure takes when the phases cannot give one: a third of the mean.
    public static let defaultSpread = 1.0 / 3
    /// The fewest requests of an operation whose quantiles give it a spread.
    static let spreadSamples = 100.0

    /// Each operation's spread from the quieter half of the journey phases (the lowest rates, at
    /// least the quietest): the time k6 measured, less its floor, taken as a shifted lognormal
    /// (``Quantiles/shiftedLognormalCV``), the smallest of those phases', between 0.1 and 3;
    /// ``defaultSpread`` for an operation with fewer than 100 requests in each, or none recorded.
    /// The time's floor (the round trips) and its mean differ from the CPU's, but at a rate where
    /// nothing queues its shape is the request's own work's, and the CPU, which the cores stretch
    /// under load, is where the model carries it. A disturbance of the box during a phase (another
    /// tenant, a stall) only lengthens its tail, as queueing does at higher rates: the smallest
    /// shape of the quiet phases is the work's own.
    func spread(of operations: [String]) -> [String: Double] {
        let byRate = journeys.sorted { $0.requestsPerSecond < $1.requestsPerSecond }
        let quiet = byRate.prefix(max(1, byRate.count / 2))
        return Dictionary(uniqueKeysWithValues: operations.map { op in
            let shapes = quiet.compactMap { phase -> Double? in
                guard (phase.requests[op] ?? 0) >= Self.spreadSamples else { return nil }
                return phase.latency?[op]?.shiftedLognormalCV
            }
            guard let cv = shapes.min() else { return (op, Self.defaultSpread) }
            return (op, min(3, max(0.1, cv)))
        })
    }

    /// Requests a second of the six operation phases.
    public var rate: Double
    public var phases: [Phase]
    /// The whole journey at several rates.
    public var journeys: [Phase]
    public var baseline: Baseline
    public var wakeUpQuiet: WakeUp
    public var machine: String
    public var placement: String
    /// The writer tier catching up after the journeys, alone on the machine (nil: not measured).
    /// The journeys run first, on the fresh backends the server started on, so its backlog is the
    /// mix a sale's journeys leave behind, written into an empty MongoDB as in every measured run.
    public var writerDrain: WriterDrain?
    /// The load generator ran on cores of its own (FLASHDEAL_PIN=split): its CPU is not on the
    /// server's cores, so it is left out of the others' demand (nil: shared, in calibrations
    /// recorded before it was kept).
    public var loadGeneratorApart: Bool?
    /// The deal every phase ordered from (nil in calibrations recorded before it was kept).
    public var deal: String?

    public init(
        rate: Double, phases: [Phase], journeys: [Phase], baseline: Baseline, wakeUpQuiet: WakeUp, machine: String, placement: String,
        writerDrain: WriterDrain? = nil, loadGeneratorApart: Bool = false, deal: String? = nil
    ) {
        self.deal = deal
        self.writerDrain = writerDrain
        self.loadGeneratorApart = loadGeneratorApart
        self.rate = rate
        self.phases = phases
        self.journeys = journeys
        self.baseline = baseline
        self.wakeUpQuiet = wakeUpQuiet
        self.machine = machine
        self.placement = placement
    }

    /// The writer tier's CPU per Kafka message (ms) and the cores it used at once, from its
    /// catch-up alone on the machine after the journeys: the machine's busy time beyond its quiet
    /// level, per message written (nil: not measured, or too few messages).
    public var writerCost: (cpuPerMessageMs: Double, cores: Double)? {
        writerDrain?.cost(idleBusyPerSecond: baseline.machinePerSecond ?? 0)
    }

    /// The operations the phases made requests of, in a fixed order.
    var operations: [String] { Set(phases.flatMap { $0.requests.filter { $0.value > 0 }.keys }).sorted() }

    public func fit() throws -> Fit {
        let ops = operations
        let rows = phases.map { phase in ops.map { phase.requests[$0] ?? 0 } }
        func solve(_ cpu: (Phase) -> Double) throws -> [String: Double] {
            let seconds = try Self.nonNegativeLeastSquares(rows, phases.map(cpu))
            return Dictionary(uniqueKeysWithValues: zip(ops, seconds.map { $0 * 1000 }))
        }
        let server = try solve(serverCPU)
        let loadGenerator = try solve(loadGeneratorCPU)
        let redis = try solve(redisCPU)
        let others = try solve(othersCPU)
        func rebuilt(_ phase: Phase, _ figures: [String: Double]) -> Double {
            phase.requests.reduce(0) { $0 + $1.value * (figures[$1.key] ?? 0) / 1000 }
        }
        let byRate = journeys.map { phase in
            Scenario.Machine.RatePoint(
                rate: phase.requestsPerSecond,
                server: serverCPU(phase) / max(1e-9, rebuilt(phase, server)),
                others: othersCPU(phase) / max(1e-9, rebuilt(phase, others)))
        }.sorted { $0.rate < $1.rate }
        return Fit(server: server, loadGenerator: loadGenerator, redis: redis, others: others, byRate: byRate, spread: spread(of: ops))
    }

    /// A phase's CPU less what each process spends with no load.
    func serverCPU(_ phase: Phase) -> Double { max(0, phase.server - baseline.serverPerSecond * phase.seconds) }
    func loadGeneratorCPU(_ phase: Phase) -> Double { max(0, phase.loadGenerator - baseline.loadGeneratorRun) }
    func redisCPU(_ phase: Phase) -> Double { max(0, phase.redis - baseline.redisPerSecond * phase.seconds) }
    /// What competes with the server on its cores, less the quiet baselines: k6 too, unless it ran
    /// on cores of its own.
    func othersCPU(_ phase: Phase) -> Double {
        let quiet = (baseline.kernelPerSecond + baseline.redisPerSecond) * phase.seconds
        guard loadGeneratorApart != true else { return max(0, phase.others - phase.loadGenerator - quiet) }
        return max(0, phase.others - quiet - baseline.loadGeneratorRun)
    }

    /// Minimises ‖A x − b‖ with x ≥ 0: least squares on the normal equations, dropping any column
    /// whose figure comes out negative and solving again (the active-set idea of Lawson and
    /// Hanson, enough for a handful of columns).
    static func nonNegativeLeastSquares(_ a: [[Double]], _ b: [Double]) throws -> [Double] {
        let columns = a.first?.count ?? 0
        var active = Array(0..<columns)
        while true {
            let x = try leastSquares(a.map { row in active.map { row[$0] } }, b)
            guard let worst = x.indices.min(by: { x[$0] < x[$1] }), x[worst] < 0 else {
                var result = [Double](repeating: 0, count: columns)
                for (i, column) in active.enumerated() { result[column] = x[i] }
                return result
            }
            active.remove(at: worst)
        }
    }

    /// Solves AᵀA x = Aᵀb by Gaussian elimination with partial pivoting.
    static func leastSquares(_ a: [[Double]], _ b: [Double]) throws -> [Double] {
        let n = a.first?.count ?? 0
        guard n > 0 else { return [] }
        guard a.count >= n else { throw LoadTestError("calibration: \(a.count) phases cannot separate \(n) operations") }
        var m = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for (row, y) in zip(a, b) {
            for i in 0..<n {
                for j in 0..<n { m[i][j] += row[i] * row[j] }
                m[i][n] += row[i] * y
            }
        }
        for column in 0..<n {
            let pivot = (column..<n).max { abs(m[$0][column]) < abs(m[$1][column]) }!
            guard abs(m[pivot][column]) > 1e-12 else { throw LoadTestError("calibration: the phases do not separate the operations (singular system)") }
            m.swapAt(column, pivot)
            for row in (column + 1)..<n where m[row][column] != 0 {
                let f = m[row][column] / m[column][column]
                for j in column...n { m[row][j] -= f * m[column][j] }
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = m[row][n]
            for j in (row + 1)..<n { s -= m[row][j] * x[j] }
            x[row] = s / m[row][row]
        }
        return x
    }
}
