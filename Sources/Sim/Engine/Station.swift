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
    public internal(set) var seriesBusy: [Double] = []
    public internal(set) var seriesQueue: [Double] = []
    public internal(set) var seriesCapacity: [Double] = []
    public let recordSeries: Bool
    /// The second being filled, and its sums so far (flushed into the series when time moves on).
    var openSecondStart: Int64 = 0
    var openBusy = 0.0, openQueue = 0.0, openCapacity = 0.0

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

    /// A job that runs at once whatever the capacity: a processor-sharing CPU counts its runnable
    /// jobs here, so `busy` may exceed the capacity (the load average's sense of it).
    public mutating func enter(at now: Int64) {
        advance(to: now)
        arrivals &+= 1
        started &+= 1
        waited &+= 1
        busy += 1
    }

    /// A job counted by ``enter(at:)`` leaves.
    public mutating func leave(at now: Int64) {
        advance(to: now)
        busy -= 1
    }

    /// A server finishes at `now`; returns the job that starts next, if one is waiting. Jobs that
    /// waited longer than `maxWait` are dropped into `expired`.
    public mutating func depart(at now: Int64, expired: inout [Int32]) -> Int32? {
        advance(to: now)
        if let job = nextWaiting(at: now, expired: &expired) { return job }
        busy -= 1
        return nil
    }

    /// Changes the number of servers (autoscaling). Returns jobs that can start now.
    public mutating func setCapacity(_ newCapacity: Int, at now: Int64, starting: inout [Int32], expired: inout [Int32]) {
        advance(to: now)
        capacity = max(0, newCapacity)
        while busy < capacity, let job = nextWaiting(at: now, expired: &expired) {
            busy += 1
            starting.append(job)
        }
    }

    /// Takes the first waiting job that has not waited past `maxWait` (those are dropped into
    /// `expired`), counting its wait.
    mutating func nextWaiting(at now: Int64, expired: inout [Int32]) -> Int32? {
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
        return nil
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
        // Fast path: the interval lies inside the second being filled; sums stay in registers.
        if start >= openSecondStart, end <= openSecondStart + 1_000_000_000 {
            let dt = Double(end - start) / 1e9
            openBusy += dt * Double(busy)
            openQueue += dt * Double(queue.count)
            openCapacity += dt * Double(capacity)
            return
        }
        var t = start
        while t < end {
            let second = t / 1_000_000_000
            if second * 1_000_000_000 != openSecondStart { flushSecond(startingAt: second * 1_000_000_000) }
            let boundary = min(end, (second + 1) * 1_000_000_000)
            let dt = Double(boundary - t) / 1e9
            openBusy += dt * Double(busy)
            openQueue += dt * Double(queue.count)
            openCapacity += dt * Double(capacity)
            t = boundary
        }
    }

    /// Writes the open second's sums into the series and opens the second starting at `next`.
    mutating func flushSecond(startingAt next: Int64) {
        let index = Int(openSecondStart / 1_000_000_000)
        while seriesBusy.count <= index {
            seriesBusy.append(0); seriesQueue.append(0); seriesCapacity.append(0)
        }
        seriesBusy[index] += openBusy
        seriesQueue[index] += openQueue
        seriesCapacity[index] += openCapacity
        openBusy = 0; openQueue = 0; openCapacity = 0
        openSecondStart = next
    }

    /// Closes the series at the end of a run.
    public mutating func closeSeries() {
        guard recordSeries else { return }
        flushSecond(startingAt: openSecondStart + 1_000_000_000)
    }

    /// Mean busy servers over capacity, from time 0 to `end`.
    public func utilisation(until end: Int64) -> Double {
        capacityArea > 0 ? busyArea / capacityArea : 0
    }

    public func meanQueueLength(until end: Int64) -> Double { end > 0 ? queueArea / Double(end) : 0 }
    public func meanWait() -> Double { waited > 0 ? waitSum / Double(waited) : 0 }
}

/// A growable FIFO ring buffer (power-of-two capacity, so positions wrap with a mask).
public struct RingBuffer<Element> {
    var storage: [Element?]
    var head = 0
    var mask: Int
    public private(set) var count = 0

    public init(capacity: Int) {
        var size = 1
        while size < max(1, capacity) { size <<= 1 }
        storage = Array(repeating: nil, count: size)
        mask = size - 1
    }

    public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & mask] = element
        count += 1
    }

    public mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) & mask
        count -= 1
        return element
    }

    public var first: Element? { count > 0 ? storage[head] : nil }

    mutating func grow() {
        var bigger: [Element?] = Array(repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) & mask] }
        storage = bigger
        head = 0
        mask = bigger.count - 1
    }
}
