/// A resource with `capacity` servers and a FIFO queue, optionally bounded (an arrival finding
/// the queue full is rejected) and with a waiting time-out (a job that waited longer is dropped
/// when it reaches the head). It keeps its own statistics: time-weighted busy servers and queue
/// length, waits, rejections and time-outs, and per-second busy and queue series.
///
/// The model owns the events: `arrive` says whether a job starts now, and `depart` hands back the
/// next job to start.
public struct Station {
    public let name: String
    public private(set) var capacity: Int
    public let queueLimit: Int?
    public let maxWait: Int64?

    public private(set) var busy = 0
    var queue: RingBuffer<(job: Int32, arrivedAt: Int64)>

    // Statistics
    public private(set) var arrivals = 0
    public private(set) var started = 0
    public private(set) var rejected = 0
    public private(set) var timedOut = 0
    /// Arrivals that had to wait (found every server busy).
    public private(set) var delayed = 0
    public private(set) var busyArea: Double = 0
    public private(set) var queueArea: Double = 0
    public private(set) var capacityArea: Double = 0
    public private(set) var waitSum: Double = 0
    /// Waiting time of jobs dropped for waiting too long (for Little's law over the queue).
    public private(set) var timedOutWaitSum: Double = 0
    public private(set) var waited = 0
    public private(set) var lastChange: Int64 = 0
    public private(set) var seriesBusy: [Double] = []
    public private(set) var seriesQueue: [Double] = []
    public private(set) var seriesCapacity: [Double] = []
    public let recordSeries: Bool

    public init(name: String, capacity: Int, queueLimit: Int? = nil, maxWait: Int64? = nil, recordSeries: Bool = true) {
        self.name = name
        self.capacity = capacity
        self.queueLimit = queueLimit
        self.maxWait = maxWait
        self.recordSeries = recordSeries
        queue = RingBuffer(capacity: 64)
    }

    public var queueLength: Int { queue.count }

    public enum Admission: Equatable { case start, queued, rejected }

    /// A job arrives at `now`.
    public mutating func arrive(_ job: Int32, at now: Int64) -> Admission {
        advance(to: now)
        arrivals &+= 1
        if busy < capacity {
            busy += 1
            started &+= 1
            waited &+= 1
            return .start
        }
        if let limit = queueLimit, queue.count >= limit {
            rejected &+= 1
            return .rejected
        }
        queue.append((job, now))
        delayed &+= 1
        return .queued
    }

    /// A server finishes at `now`; returns the job that starts next, if one is waiting. Jobs that
    /// waited longer than `maxWait` are dropped into `expired`.
    public mutating func depart(at now: Int64, expired: inout [Int32]) -> Int32? {
        advance(to: now)
        while let (job, arrivedAt) = queue.popFirst() {
            let wait = now - arrivedAt
            if let limit = maxWait, wait > limit {
                timedOut &+= 1
                timedOutWaitSum += Double(wait)
                expired.append(job)
                continue
            }
            waitSum += Double(wait)
            waited &+= 1
            started &+= 1
            return job
        }
        busy -= 1
        return nil
    }

    /// Changes the number of servers (autoscaling). Returns jobs that can start now.
    public mutating func setCapacity(_ newCapacity: Int, at now: Int64, starting: inout [Int32], expired: inout [Int32]) {
        advance(to: now)
        capacity = max(0, newCapacity)
        while busy < capacity, let (job, arrivedAt) = queue.popFirst() {
            let wait = now - arrivedAt
            if let limit = maxWait, wait > limit {
                timedOut &+= 1
                timedOutWaitSum += Double(wait)
                expired.append(job)
                continue
            }
            waitSum += Double(wait)
            waited &+= 1
            started &+= 1
            busy += 1
            starting.append(job)
        }
    }

    /// Integrates the time-weighted statistics up to `now`.
    public mutating func advance(to now: Int64) {
        guard now > lastChange else { return }
        if recordSeries { addSeries(from: lastChange, to: now) }
        let dt = Double(now - lastChange)
        busyArea += dt * Double(busy)
        queueArea += dt * Double(queue.count)
        capacityArea += dt * Double(capacity)
        lastChange = now
    }

    mutating func addSeries(from start: Int64, to end: Int64) {
        var t = start
        while t < end {
            let second = Int(t / 1_000_000_000)
            let boundary = min(end, Int64(second + 1) * 1_000_000_000)
            while seriesBusy.count <= second {
                seriesBusy.append(0); seriesQueue.append(0); seriesCapacity.append(0)
            }
            let dt = Double(boundary - t) / 1e9
            seriesBusy[second] += dt * Double(busy)
            seriesQueue[second] += dt * Double(queue.count)
            seriesCapacity[second] += dt * Double(capacity)
            t = boundary
        }
    }

    /// Mean busy servers over capacity, from time 0 to `end`.
    public func utilisation(until end: Int64) -> Double {
        capacityArea > 0 ? busyArea / capacityArea : 0
    }

    public func meanQueueLength(until end: Int64) -> Double { end > 0 ? queueArea / Double(end) : 0 }
    public func meanWait() -> Double { waited > 0 ? waitSum / Double(waited) : 0 }
}

/// A growable FIFO ring buffer.
public struct RingBuffer<Element> {
    var storage: [Element?]
    var head = 0
    public private(set) var count = 0

    public init(capacity: Int) { storage = Array(repeating: nil, count: max(1, capacity)) }

    public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    public mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    public var first: Element? { count > 0 ? storage[head] : nil }

    mutating func grow() {
        var bigger: [Element?] = Array(repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) % storage.count] }
        storage = bigger
        head = 0
    }
}
