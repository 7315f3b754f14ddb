import LiveRuntime

/// Key names shared by the shop's Redis adapters.
enum RedisKeys {
    /// The key of a record read by id alone (an order, a payment): tagged with its id's hash slot
    /// (`fd:order:{3kq}:o-<uuid>.s1234`, the slot of the order's deal), or with the whole id when it
    /// names no slot (`fd:order:{o-1}`, ids made before the slot was carried, and by tests).
    static func record(_ prefix: String, _ kind: String, _ id: String) -> String {
        guard let tag = HashSlot.tag(of: id) else { return "\(prefix):\(kind):{\(id)}" }
        return "\(prefix):\(kind):{\(tag)}:\(id)"
    }
}
