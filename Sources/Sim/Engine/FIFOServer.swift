/// A single FIFO server whose start and end times are computed on arrival (Lindley's recursion:
/// start = max(arrival, previous end)) instead of by events: exact for a single server that
/// serves in arrival order, with no queue limit or time-out, as Redis's command loop does.
/// Keeps the same statistics as `Station`, per second included.
public struct FIFOServer {
    public let name: String
    public private(set) var freeAt: Int64 = 0
    public private(set) var arrivals = 0
    public private(set) var delayed = 0
    public private(set) var busyArea: Double = 0
    public private(set) var waitSum: Double = 0
    public private(set) var lastEnd: Int64 = 0
    public private(set) var seriesBusy: [Double] = []
    public private(set) var seriesQueue: [Double] = []

    public init(name: String) { self.name = name }

    /// A job arriving at `arrival` needing `service`: when it starts and ends.
    public mutating func serve(arrival: Int64, service: Int64) -> (start: Int64, end: Int64) {
        let start = max(arrival, freeAt)
        let end = start + service
        freeAt = end
        arrivals += 1
        if start > arrival {
            delayed += 1
            waitSum += Double(start - arrival)
            Self.spread(&seriesQueue, from: arrival, to: start)
        }
        busyArea += Double(service)
        Self.spread(&seriesBusy, from: start, to: end)
        lastEnd = max(lastEnd, end)
        return (start, end)
    }

    /// Adds the interval's length (seconds) to the per-second bins it covers.
    static func spread(_ series: inout [Double], from start: Int64, to end: Int64) {
        guard end > start else { return }
        let first = Int(start / 1_000_000_000), last = Int((end - 1) / 1_000_000_000)
        if last >= series.count { series.append(contentsOf: repeatElement(0, count: last - series.count + 1)) }
        if first == last {
            series[first] += Double(end - start) / 1e9
            return
        }
        var t = start
        for second in first...last {
            let boundary = min(end, Int64(second + 1) * 1_000_000_000)
            series[second] += Double(boundary - t) / 1e9
            t = boundary
        }
    }

    public func utilisation(until end: Int64) -> Double { end > 0 ? busyArea / Double(end) : 0 }
    public func meanQueueLength(until end: Int64) -> Double { end > 0 ? waitSum / Double(end) : 0 }
    public func meanWait() -> Double { arrivals > 0 ? waitSum / Double(arrivals) : 0 }
}
