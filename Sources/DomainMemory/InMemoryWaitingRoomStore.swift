public import Domain

/// The waiting rooms in this process: the embedded mode's and the tests'.
public actor InMemoryWaitingRoomStore: WaitingRoomStore {
    /// Per deal, each buyer's place, and the queue in order (place, then user id: as Redis orders
    /// a sorted set's ties).
    private var places: [DealID: [UserID: Double]] = [:]
    private var queues: [DealID: [(place: Double, user: UserID)]] = [:]
    private var spent: [String: (key: IdempotencyKey, until: ContinuousClock.Instant)] = [:]

    public init() {}

    public func join(_ deal: DealID, _ user: UserID, place: Double) -> (rank: Int, length: Int) {
        if places[deal]?[user] == nil {
            places[deal, default: [:]][user] = place
            var queue = queues[deal, default: []]
            let at = queue.firstIndex { ($0.place, $0.user) > (place, user) } ?? queue.count
            queue.insert((place, user), at: at)
            queues[deal] = queue
        }
        return rank(deal, user)!
    }

    public func rank(_ deal: DealID, _ user: UserID) -> (rank: Int, length: Int)? {
        guard let queue = queues[deal], let rank = queue.firstIndex(where: { $0.user == user }) else { return nil }
        return (rank, queue.count)
    }

    public func spend(ticket id: String, deal: DealID, key: IdempotencyKey, ttl: Duration) -> Bool {
        let now = ContinuousClock.now
        spent = spent.filter { $0.value.until > now }
        if let first = spent[id] { return first.key == key }
        spent[id] = (key, now + ttl)
        return true
    }
}
