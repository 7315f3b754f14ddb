/// A first-in first-out queue of times: appends at the back, removals from the front, each O(1)
/// amortised (the front's slots are reclaimed once they are half the storage).
struct Deque64 {
    private var items: [Int64] = []
    private var head = 0

    var count: Int { items.count - head }
    var first: Int64? { head < items.count ? items[head] : nil }

    mutating func append(_ value: Int64) { items.append(value) }

    mutating func removeFirst() {
        head += 1
        if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
