/// Preallocated storage for records addressed by `Int32` ids, with a free list: no allocation
/// per request once warmed up.
public struct Pool<Record> {
    var records: [Record] = []
    var free: [Int32] = []
    public private(set) var live = 0

    public init() {}

    public mutating func insert(_ record: Record) -> Int32 {
        live += 1
        if let id = free.popLast() {
            records[Int(id)] = record
            return id
        }
        records.append(record)
        return Int32(records.count - 1)
    }

    public mutating func remove(_ id: Int32) {
        live -= 1
        free.append(id)
    }

    public subscript(id: Int32) -> Record {
        get { records[Int(id)] }
        _modify { yield &records[Int(id)] }
    }
}
