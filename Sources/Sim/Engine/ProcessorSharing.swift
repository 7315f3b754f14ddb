/// CPU cores shared by time slicing, as Linux's scheduler shares them between runnable threads:
/// egalitarian processor sharing on `cores` cores, where each of `n` runnable jobs progresses at
/// `min(1, cores / (n + background))` of a core, `background` being other processes' runnable
/// threads that compete for the same cores (the load generator, Redis, the writer on a shared box).
/// With a CPU `quota` (Kubernetes' CPU limit: CFS bandwidth control), the jobs together may use at
/// most `quota.coreSeconds` of CPU per `quota.period`; once it is spent they all stall until the
/// next period begins: the latency spikes a pod with a tight limit shows.
///
/// A fine-grained round robin tends to processor sharing as the quantum shrinks; Linux's CFS
/// quantum (a few milliseconds) is short against the service times here, so the limit stands in
/// for it (the textbook M/G/1-PS closed forms then hold, `QueueingValidationTests`).
///
/// An *idle class* (Linux's `SCHED_IDLE`, where the writer tier runs on a shared box) takes only
/// the cores the jobs and the background leave: with `n` jobs and `b` background threads runnable,
/// `max(0, cores − min(cores, n + b))` cores (all of them while a quota throttles the jobs, less
/// the background's), shared equally by its jobs, each at most `idleJobCores` cores (a job of the
/// writer tier is a pipeline of processes, and can use more than one). The normal jobs never wait
/// for it.
///
/// Kept by attained service: every runnable job of a class has received the same CPU since the
/// later of its arrival and the start, so one counter per class (`attained`) and each job's
/// finishing level decide completions; the model asks ``nextEvent(now:)`` after each change and
/// ignores a completion event whose ``generation`` has passed.
public struct ProcessorSharing {
    public struct Quota: Sendable, Hashable {
        /// Nanoseconds of CPU the jobs may use together per period.
        public var cpuPerPeriod: Int64
        public var period: Int64

        public init(cpuPerPeriod: Int64, period: Int64) {
            self.cpuPerPeriod = cpuPerPeriod
            self.period = period
        }
    }

    public let cores: Double
    public let background: Double
    public let quota: Quota?
    /// The most cores one idle-class job can use at once.
    public let idleJobCores: Double
    /// Bumped at every change: a scheduled completion is current only while it is unchanged.
    public private(set) var generation: Int32 = 0
    /// CPU each runnable job has received so far (nanoseconds, in the same units as work).
    private var attained: Double = 0
    private var lastUpdate: Int64 = 0
    /// Runnable jobs by finishing level (attained service at which each is done).
    private var heap = MinHeap()
    /// The idle class: the CPU each of its jobs has received so far, and its jobs by finishing level.
    private var idleAttained: Double = 0
    private var idleHeap = MinHeap()
    /// CPU used in the current quota period, and when that period started.
    private var periodUsed: Double = 0
    private var periodStart: Int64 = 0

    // Statistics
    /// Core-nanoseconds of CPU the jobs used (busy cores, time-weighted).
    public private(set) var busyArea: Double = 0
    /// Job-nanoseconds runnable (the number of jobs in the system, time-weighted).
    public private(set) var jobsArea: Double = 0
    /// Nanoseconds throttled by the quota.
    public private(set) var throttled: Double = 0
    /// Core-nanoseconds of CPU the idle class used.
    public private(set) var idleBusyArea: Double = 0

    public init(cores: Double, background: Double = 0, quota: Quota? = nil, idleJobCores: Double = 1) {
        precondition(cores > 0 && background >= 0 && idleJobCores > 0)
        self.cores = cores
        self.background = background
        self.quota = quota
        self.idleJobCores = idleJobCores
    }

    public var count: Int { heap.count }

    /// What one idle-class job gets of a core while `n` jobs are runnable (`running`: not
    /// throttled).
    func idleShare(jobs n: Double, running: Bool) -> Double {
        let m = Double(idleHeap.count)
        guard m > 0 else { return 0 }
        let taken = min(cores, (running ? n : 0) + background)
        return min(idleJobCores, max(0, cores - taken) / m)
    }
    /// The time the counters stand at.
    public var lastTime: Int64 { lastUpdate }

    /// Whether the quota of the current period is spent.
    var isThrottled: Bool {
        guard let quota else { return false }
        return periodUsed >= Double(quota.cpuPerPeriod) - 0.5
    }

    /// Brings the counters to `now`: the attained service of both classes, the period's use and
    /// the statistics.
    public mutating func advance(to now: Int64) {
        while lastUpdate < now {
            let t = lastUpdate
            var until = now
            if let quota {
                if t >= periodStart + quota.period {
                    periodStart += (t - periodStart) / quota.period * quota.period
                    periodUsed = 0
                }
                until = min(now, periodStart + quota.period)
            }
            let n = Double(heap.count)
            let running = n > 0 && !isThrottled
            let idle = idleShare(jobs: n, running: running)
            var span = Double(until - t)
            if running {
                let share = min(1, cores / (n + background))
                if let quota { span = min(span, (Double(quota.cpuPerPeriod) - periodUsed) / (share * n)) }
                attained += share * span
                periodUsed += share * n * span
                busyArea += share * n * span
            } else if n > 0 {
                throttled += span
            }
            jobsArea += n * span
            idleAttained += idle * span
            idleBusyArea += idle * Double(idleHeap.count) * span
            lastUpdate = span >= Double(until - t) ? until : t + max(1, Int64(span.rounded(.up)))
        }
        // At a period's end exactly, the next one has begun.
        if let quota, lastUpdate >= periodStart + quota.period {
            periodStart += (lastUpdate - periodStart) / quota.period * quota.period
            periodUsed = 0
        }
    }

    /// A job needing `work` nanoseconds of CPU becomes runnable at `now`.
    public mutating func arrive(_ job: Int32, work: Int64, at now: Int64) {
        advance(to: now)
        heap.push((attained + Double(max(work, 1)), job))
        generation &+= 1
    }

    /// An idle-class job needing `work` nanoseconds of CPU becomes runnable at `now`.
    public mutating func arriveIdle(_ job: Int32, work: Int64, at now: Int64) {
        advance(to: now)
        idleHeap.push((idleAttained + Double(max(work, 1)), job))
        generation &+= 1
    }

    /// The next moment something changes, as things stand at `now`: the first job of either
    /// class done, the quota running out, or a throttled period ending (nil: nothing runnable, or
    /// only idle jobs that get no core). The model calls ``complete(at:)`` and
    /// ``completeIdle(at:)`` then, and asks again.
    public mutating func nextEvent(now: Int64) -> Int64? {
        advance(to: now)
        let n = Double(heap.count)
        let running = n > 0 && !isThrottled
        var next: Int64?
        if let first = idleHeap.min {
            let idle = idleShare(jobs: n, running: running)
            if idle > 0 { next = now + max(0, Int64(((first.level - idleAttained) / idle).rounded(.up))) }
        }
        guard let first = heap.min else { return next }
        if let quota, isThrottled { return min(next ?? .max, periodStart + quota.period) }
        let share = min(1, cores / (n + background))
        var change = now + max(0, Int64(((first.level - attained) / share).rounded(.up)))
        if let quota { change = min(change, now + max(1, Int64(((Double(quota.cpuPerPeriod) - periodUsed) / (share * n)).rounded(.up)))) }
        return min(next ?? .max, change)
    }

    /// The job done at `now` (its work received); nil when none is.
    public mutating func complete(at now: Int64) -> Int32? {
        advance(to: now)
        return Self.popDone(&heap, attained: attained, generation: &generation)
    }

    /// The idle-class job done at `now`; nil when none is.
    public mutating func completeIdle(at now: Int64) -> Int32? {
        advance(to: now)
        return Self.popDone(&idleHeap, attained: idleAttained, generation: &generation)
    }

    /// The first job of a class whose finishing level its attained service has reached.
    private static func popDone(_ heap: inout MinHeap, attained: Double, generation: inout Int32) -> Int32? {
        guard let first = heap.min, first.level <= attained + 1 else { return nil }
        _ = heap.pop()
        generation &+= 1
        return first.job
    }
}

/// A binary min-heap of (level, job), ties by job.
struct MinHeap {
    private var items: [(level: Double, job: Int32)] = []

    var count: Int { items.count }
    var min: (level: Double, job: Int32)? { items.first }

    static func less(_ a: (level: Double, job: Int32), _ b: (level: Double, job: Int32)) -> Bool { (a.level, a.job) < (b.level, b.job) }

    mutating func push(_ item: (level: Double, job: Int32)) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (level: Double, job: Int32)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, Self.less(items[l], items[m]) { m = l }
            if r < items.count, Self.less(items[r], items[m]) { m = r }
            guard m != i else { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
