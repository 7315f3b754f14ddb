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
/// Kept by attained service: every runnable job has received the same CPU since the later of its
/// arrival and the start, so one counter (`attained`) and each job's finishing level decide
/// completions; the model asks ``nextCompletion(now:)`` after each change and ignores a
/// completion event whose ``generation`` has passed.
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
    /// Bumped at every change: a scheduled completion is current only while it is unchanged.
    public private(set) var generation: Int32 = 0
    /// CPU each runnable job has received so far (nanoseconds, in the same units as work).
    private var attained: Double = 0
    private var lastUpdate: Int64 = 0
    /// Runnable jobs by finishing level (attained service at which each is done).
    private var heap = MinHeap()
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

    public init(cores: Double, background: Double = 0, quota: Quota? = nil) {
        precondition(cores > 0 && background >= 0)
        self.cores = cores
        self.background = background
        self.quota = quota
    }

    public var count: Int { heap.count }
    /// The time the counters stand at.
    public var lastTime: Int64 { lastUpdate }

    /// Whether the quota of the current period is spent.
    var isThrottled: Bool {
        guard let quota else { return false }
        return periodUsed >= Double(quota.cpuPerPeriod) - 0.5
    }

    /// Brings the counters to `now`: the attained service, the period's use and the statistics.
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
            guard n > 0 else { lastUpdate = until; continue }
            guard !isThrottled else {
                throttled += Double(until - t)
                jobsArea += n * Double(until - t)
                lastUpdate = until
                continue
            }
            let share = min(1, cores / (n + background))
            var span = Double(until - t)
            if let quota { span = min(span, (Double(quota.cpuPerPeriod) - periodUsed) / (share * n)) }
            attained += share * span
            periodUsed += share * n * span
            busyArea += share * n * span
            jobsArea += n * span
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

    /// The next moment something changes, as things stand at `now`: the first job done, the
    /// quota running out, or a throttled period ending (nil: nothing runnable). The model calls
    /// ``complete(at:)`` then, and asks again.
    public mutating func nextEvent(now: Int64) -> Int64? {
        advance(to: now)
        guard let first = heap.min else { return nil }
        let n = Double(heap.count), share = min(1, cores / (n + background))
        let done = now + max(0, Int64(((first.level - attained) / share).rounded(.up)))
        guard let quota else { return done }
        if isThrottled { return periodStart + quota.period }
        let exhausted = now + max(1, Int64(((Double(quota.cpuPerPeriod) - periodUsed) / (share * n)).rounded(.up)))
        return min(done, exhausted)
    }

    /// The job done at `now` (its work received); nil when none is.
    public mutating func complete(at now: Int64) -> Int32? {
        advance(to: now)
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
