/// The event calendar: events come out in (time, scheduling order), so events for the same
/// instant come out in the order they were scheduled and a run is reproducible to the byte.
///
/// Most events in a flash-sale model are due within a second (network hops, service times,
/// think times), so the calendar is a timing wheel of about a second in 1,024 buckets of 2²⁰ ns
/// (~1 ms): scheduling into the window appends to a bucket (O(1)); the current bucket is a small
/// 4-ary heap that fits in cache; events beyond the window wait in an overflow 4-ary heap and
/// move into the wheel as it turns. Events scheduled for the current instant skip all of it (a
/// FIFO fast path). `Event` is the model's own small enum, stored inline.
public struct EventCalendar<Event> {
    struct Entry: HeapOrdered {
        var time: Int64
        var order: UInt64
        var event: Event

        func precedes(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && order < other.order)
        }
    }

    /// log₂ of a bucket's width in nanoseconds: pick it so a bucket holds a few dozen events.
    let bucketBits: Int64
    static var wheelSize: Int { 1024 }

    var current = QuaternaryHeap<Entry>()
    var currentBucket: Int64 = 0
    let wheel: BucketWheel<Entry>
    var wheelCount = 0
    var overflow = QuaternaryHeap<Entry>()
    /// Events scheduled for `now` itself, in scheduling order (the fast path).
    var dueNow: [Entry] = []
    var dueNowHead = 0
    var nextOrder: UInt64 = 0
    /// The virtual clock, in nanoseconds.
    public private(set) var now: Int64 = 0
    /// Events delivered so far.
    public private(set) var processed: Int = 0

    /// `bucketBits`: log₂ of the bucket width in nanoseconds (20, about a millisecond, suits a
    /// model whose events are microseconds to a second apart).
    public init(capacity: Int = 1024, bucketBits: Int = 20) {
        self.bucketBits = Int64(bucketBits)
        wheel = BucketWheel(buckets: Self.wheelSize)
        dueNow.reserveCapacity(64)
    }

    public var isEmpty: Bool { pending == 0 }
    public var pending: Int { current.count + wheelCount + overflow.count + dueNow.count - dueNowHead }

    /// Schedules `event` at absolute time `time` (never before now).
    public mutating func schedule(at time: Int64, _ event: Event) {
        precondition(time >= now, "cannot schedule in the past")
        let entry = Entry(time: time, order: nextOrder, event: event)
        nextOrder &+= 1
        if time == now {
            dueNow.append(entry)
            return
        }
        let bucket = time >> bucketBits
        if bucket == currentBucket {
            current.push(entry)
        } else if bucket < currentBucket + Int64(Self.wheelSize) {
            wheel.append(entry, to: Int(bucket) & (Self.wheelSize - 1))
            wheelCount += 1
        } else {
            overflow.push(entry)
        }
    }

    /// Schedules `event` `delay` nanoseconds from now.
    public mutating func schedule(after delay: Int64, _ event: Event) {
        schedule(at: now + max(0, delay), event)
    }

    /// The next event, advancing the clock to its time; `nil` when none is left.
    public mutating func next() -> Event? {
        if dueNowHead < dueNow.count {
            let head = dueNow[dueNowHead]
            // An event already waiting for this same instant was scheduled earlier: it goes first.
            if let top = current.first, top.time == now, top.order < head.order {
                return deliver(current.pop())
            }
            dueNowHead += 1
            if dueNowHead == dueNow.count {
                dueNow.removeAll(keepingCapacity: true)
                dueNowHead = 0
            }
            processed &+= 1
            return head.event
        }
        if current.isEmpty {
            guard turnWheel() else { return nil }
        }
        return deliver(current.pop())
    }

    mutating func deliver(_ entry: Entry) -> Event {
        now = entry.time
        processed &+= 1
        return entry.event
    }

    /// Moves to the next bucket holding events and makes it current; `false` when none is left.
    mutating func turnWheel() -> Bool {
        while current.isEmpty {
            if wheelCount == 0 {
                guard let first = overflow.first else { return false }
                currentBucket = first.time >> bucketBits  // jump over the empty stretch
            } else {
                currentBucket += 1
            }
            // Overflow events now inside the window move into the wheel (or straight to current).
            let windowEnd = currentBucket + Int64(Self.wheelSize)
            while let top = overflow.first, top.time >> bucketBits < windowEnd {
                let entry = overflow.pop()
                let bucket = entry.time >> bucketBits
                if bucket == currentBucket {
                    current.push(entry)
                } else {
                    wheel.append(entry, to: Int(bucket) & (Self.wheelSize - 1))
                    wheelCount += 1
                }
            }
            let slot = Int(currentBucket) & (Self.wheelSize - 1)
            let waiting = wheel.count(slot)
            if waiting > 0 {
                wheelCount -= waiting
                if current.isEmpty {
                    // Take the bucket's memory as the heap (and give it the heap's empty one): no copying.
                    wheel.swap(slot, with: current.storage)
                    current.heapify()
                } else {
                    for i in 0..<waiting { current.push(wheel.entry(i, in: slot)) }
                    wheel.clear(slot)
                }
            }
        }
        return true
    }
}

/// What a heap orders by.
protocol HeapOrdered {
    func precedes(_ other: Self) -> Bool
}

/// A 4-ary min-heap over a `RawBuffer`: no copy-on-write checks in the inner loops.
struct QuaternaryHeap<Element: HeapOrdered> {
    let storage = RawBuffer<Element>()
    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }
    var first: Element? { storage.count > 0 ? storage[0] : nil }

    func push(_ element: Element) {
        storage.append(element)
        let h = storage.pointer
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) >> 2
            guard element.precedes(h[parent]) else { break }
            h[child] = h[parent]
            child = parent
        }
        h[child] = element
    }

    /// Restores the heap order of the whole storage (Floyd's method, O(n)).
    func heapify() {
        let count = storage.count
        guard count > 1 else { return }
        var start = (count - 2) >> 2
        while start >= 0 {
            siftDown(storage[start], from: start, count: count)
            start -= 1
        }
    }

    func pop() -> Element {
        let top = storage[0]
        let last = storage.removeLast()
        let count = storage.count
        if count > 0 { siftDown(last, from: 0, count: count) }
        return top
    }

    func siftDown(_ element: Element, from start: Int, count: Int) {
        let h = storage.pointer
        var parent = start
        while true {
            let first = (parent << 2) + 1
            if first >= count { break }
            var best = first
            let end = min(first + 4, count)
            var c = first + 1
            while c < end {
                if h[c].precedes(h[best]) { best = c }
                c += 1
            }
            guard h[best].precedes(element) else { break }
            h[parent] = h[best]
            parent = best
        }
        h[parent] = element
    }
}

/// A growable buffer of trivially copyable values (the calendar's entries) owned by a class, so
/// the engine's hot loops skip the uniqueness checks of copy-on-write arrays. Never shared: each
/// owner keeps its own.
final class RawBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 16) {
        precondition(_isPOD(Element.self), "RawBuffer holds trivially copyable values only")
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func append(_ element: Element) {
        if count == capacity { grow() }
        (pointer + count).initialize(to: element)
        count += 1
    }

    func removeLast() -> Element {
        count -= 1
        return pointer[count]
    }

    func removeAll() { count = 0 }

    /// Exchanges contents with a wheel bucket.
    func swapContents(pointer p: inout UnsafeMutablePointer<Element>, count c: inout Int, capacity k: inout Int) {
        swap(&pointer, &p)
        swap(&count, &c)
        swap(&capacity, &k)
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: pointer, count: count)
        pointer.deallocate()
        pointer = bigger
        capacity *= 2
    }
}

/// The timing wheel's buckets: one block of headers, each bucket a growable run of entries.
/// Plain pointers, no per-bucket object, so turning the wheel neither retains nor releases.
final class BucketWheel<Element> {
    struct Bucket {
        var pointer: UnsafeMutablePointer<Element>
        var count: Int
        var capacity: Int
    }

    let buckets: UnsafeMutablePointer<Bucket>
    let size: Int

    init(buckets size: Int) {
        precondition(_isPOD(Element.self), "BucketWheel holds trivially copyable values only")
        self.size = size
        buckets = .allocate(capacity: size)
        for i in 0..<size { (buckets + i).initialize(to: Bucket(pointer: .allocate(capacity: 8), count: 0, capacity: 8)) }
    }

    deinit {
        for i in 0..<size { buckets[i].pointer.deallocate() }
        buckets.deallocate()
    }

    func count(_ slot: Int) -> Int { buckets[slot].count }
    func entry(_ i: Int, in slot: Int) -> Element { buckets[slot].pointer[i] }
    func clear(_ slot: Int) { buckets[slot].count = 0 }

    func append(_ element: Element, to slot: Int) {
        let b = buckets + slot
        if b.pointee.count == b.pointee.capacity {
            let bigger = UnsafeMutablePointer<Element>.allocate(capacity: b.pointee.capacity * 2)
            bigger.moveInitialize(from: b.pointee.pointer, count: b.pointee.count)
            b.pointee.pointer.deallocate()
            b.pointee.pointer = bigger
            b.pointee.capacity *= 2
        }
        (b.pointee.pointer + b.pointee.count).initialize(to: element)
        b.pointee.count += 1
    }

    /// Exchanges a bucket's memory with a buffer's.
    func swap(_ slot: Int, with buffer: RawBuffer<Element>) {
        let b = buckets + slot
        buffer.swapContents(pointer: &b.pointee.pointer, count: &b.pointee.count, capacity: &b.pointee.capacity)
    }
}
