import Histogram

/// Latency statistics of one kind of request: an HdrHistogram (microsecond resolution, three
/// significant digits, up to an hour) for percentiles, and exact count, sum and maximum.
public struct LatencyRecorder {
    var histogram: Histogram<UInt64>
    let highest: UInt64
    public private(set) var count = 0
    public private(set) var sum: Double = 0
    public private(set) var maximum: Int64 = 0

    /// `highestMicroseconds` bounds what is tracked (larger values count as it); `precise` keeps
    /// three significant digits, otherwise two (a tenth of the memory, for per-second series).
    public init(highestMicroseconds: UInt64 = 3_600_000_000, precise: Bool = true) {
        highest = highestMicroseconds
        histogram = Histogram<UInt64>(highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: precise ? .three : .two)
    }

    /// Records a latency in nanoseconds.
    public mutating func record(_ nanoseconds: Int64) {
        let micros = UInt64(max(0, nanoseconds) / 1000)
        _ = histogram.record(min(micros, highest))
        count &+= 1
        sum += Double(nanoseconds)
        if nanoseconds > maximum { maximum = nanoseconds }
    }

    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        count += other.count
        sum += other.sum
        maximum = max(maximum, other.maximum)
    }

    /// The latency at `percentile` (0...100), in milliseconds.
    public func percentileMs(_ percentile: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    public var meanMs: Double { count == 0 ? 0 : sum / Double(count) / 1e6 }
    public var maxMs: Double { Double(maximum) / 1e6 }

    /// The `percentile` of each `window`-second window of per-second recorders, in milliseconds:
    /// the windows merge the seconds' histograms, so they are exact percentiles, not averages.
    public static func windows(_ perSecond: [LatencyRecorder], seconds: Int, window: Int = 5, percentile: Double = 95) -> [Double] {
        stride(from: 0, to: seconds, by: window).map { start in
            var merged = LatencyRecorder(highestMicroseconds: 60_000_000, precise: false)
            let upper = min(start + window, seconds, perSecond.count)
            if upper > start { for s in start..<upper { merged.add(perSecond[s]) } }
            return merged.percentileMs(percentile)
        }
    }

    public mutating func reset() {
        histogram.reset()
        count = 0
        sum = 0
        maximum = 0
    }
}

/// Per-second counters and gauges, indexed by whole second of virtual time.
public struct SecondSeries {
    public private(set) var values: [Double] = []

    public init() {}

    public mutating func add(_ amount: Double, at time: Int64) {
        let second = Int(time / 1_000_000_000)
        if second >= values.count { values.append(contentsOf: repeatElement(0, count: second - values.count + 1)) }
        values[second] += amount
    }

    /// Sets the value of the second containing `time` (a gauge: last write wins).
    public mutating func set(_ value: Double, at time: Int64) {
        let second = Int(time / 1_000_000_000)
        if second >= values.count {
            let fill = values.last ?? 0
            values.append(contentsOf: repeatElement(fill, count: second - values.count + 1))
        }
        values[second] = value
    }

    public func padded(to seconds: Int, gauge: Bool = false) -> [Double] {
        guard values.count < seconds else { return Array(values.prefix(seconds)) }
        return values + repeatElement(gauge ? (values.last ?? 0) : 0, count: seconds - values.count)
    }
}
