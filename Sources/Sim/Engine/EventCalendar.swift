/// The event calendar: a 4-ary min-heap on (time, scheduling order), with a fast path for events
/// due at the current instant. Events scheduled for the same instant come out in the order they
/// were scheduled, so a run is reproducible to the byte.
///
/// `Event` is the model's own small enum (integer ids, no closures), stored inline.
public struct EventCalendar<Event> {
    struct Entry {
        var time: Int64
        var order: UInt64
        var event: Event

        init(time: Int64, order: UInt64, event: Event) {
            self.time = time
            self.order = order
            self.event = event
        }

        func precedes(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && order < other.order)
        }
    }

    var heap: [Entry] = []
    /// Events scheduled for `now` itself, in scheduling order (the fast path).
    var dueNow: [Entry] = []
    var dueNowHead = 0
    var nextOrder: UInt64 = 0
    /// The virtual clock, in nanoseconds.
    public private(set) var now: Int64 = 0
    /// Events delivered so far.
    public private(set) var processed: Int = 0

    public init(capacity: Int = 1024) {
        heap.reserveCapacity(capacity)
        dueNow.reserveCapacity(64)
    }

    public var isEmpty: Bool { heap.isEmpty && dueNowHead == dueNow.count }
    public var pending: Int { heap.count + dueNow.count - dueNowHead }

    /// Schedules `event` at absolute time `time` (never before now).
    public mutating func schedule(at time: Int64, _ event: Event) {
        precondition(time >= now, "cannot schedule in the past")
        let entry = Entry(time: time, order: nextOrder, event: event)
        nextOrder &+= 1
        if time == now {
            dueNow.append(entry)
        } else {
            push(entry)
        }
    }

    /// Schedules `event` `delay` nanoseconds from now.
    public mutating func schedule(after delay: Int64, _ event: Event) {
        schedule(at: now + max(0, delay), event)
    }

    /// The next event, advancing the clock to its time; `nil` when none is left.
    public mutating func next() -> Event? {
        let entry: Entry
        if dueNowHead < dueNow.count {
            let head = dueNow[dueNowHead]
            if let top = heap.first, top.precedes(head) {
                entry = popHeap()
            } else {
                entry = head
                dueNowHead += 1
                if dueNowHead == dueNow.count {
                    dueNow.removeAll(keepingCapacity: true)
                    dueNowHead = 0
                }
            }
        } else if !heap.isEmpty {
            entry = popHeap()
        } else {
            return nil
        }
        now = entry.time
        processed &+= 1
        return entry.event
    }

    /// The time of the next event, if any.
    public var nextTime: Int64? {
        if dueNowHead < dueNow.count { return now }
        return heap.first?.time
    }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) >> 2
            guard entry.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = entry
    }

    mutating func popHeap() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        let count = heap.count
        guard count > 0 else { return top }
        var parent = 0
        while true {
            let first = (parent << 2) + 1
            if first >= count { break }
            var best = first
            let end = min(first + 4, count)
            var c = first + 1
            while c < end {
                if heap[c].precedes(heap[best]) { best = c }
                c += 1
            }
            guard heap[best].precedes(last) else { break }
            heap[parent] = heap[best]
            parent = best
        }
        heap[parent] = last
        return top
    }
}
