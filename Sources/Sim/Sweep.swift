public import Foundation

/// A grid of scenario variants: each `--vary PATH=V1,V2,...` multiplies the grid.
public struct Sweep: Sendable {
    public struct Axis: Sendable, Hashable {
        public var path: String
        public var values: [String]

        /// Parses `PATH=V1,V2,...`.
        public init(parsing text: String) throws(ScenarioError) {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                throw ScenarioError(path: "--vary", message: "expected PATH=V1,V2,..., found \"\(text)\"")
            }
            path = String(text[..<eq])
            values = text[text.index(after: eq)...].split(separator: ",").map(String.init)
            guard !values.isEmpty else { throw ScenarioError(path: "--vary \(path)", message: "needs at least one value") }
        }
    }

    public struct Point: Sendable {
        public var settings: [(path: String, value: String)]
        public var scenario: Scenario
    }

    public let points: [Point]

    /// Builds every combination of the axes' values applied to the scenario document, each
    /// validated as a scenario of its own.
    public init(document: Data, directory: String, axes: [Axis]) throws(ScenarioError) {
        guard let root = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else {
            throw ScenarioError(path: "$", message: "expected a JSON object")
        }
        var combos: [[(String, String)]] = [[]]
        for axis in axes { combos = combos.flatMap { c in axis.values.map { c + [(axis.path, $0)] } } }
        var points: [Point] = []
        for combo in combos {
            var object: Any = root
            for (path, value) in combo { object = try Self.set(object, path: Self.components(path), value: Self.parse(value), at: "$") }
            let data = try! JSONSerialization.data(withJSONObject: object)
            let label = combo.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            do {
                points.append(Point(settings: combo.map { (path: $0.0, value: $0.1) }, scenario: try Scenario.parse(data, directory: directory)))
            } catch {
                throw ScenarioError(path: error.path, message: "\(error.message) (with \(label))")
            }
        }
        self.points = points
    }

    /// One of `count` parts of the grid, as `sweep --shard index/count` runs it: every
    /// `count`-th point from the `index`-th (0-based), so neighbouring points, which cost alike,
    /// go to different shards.
    public struct Shard: Sendable, Hashable, CustomStringConvertible {
        public var index: Int
        public var count: Int

        /// Parses `INDEX/COUNT`, such as `0/4`.
        public init(parsing text: String) throws(ScenarioError) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
                throw ScenarioError(path: "--shard", message: "expected INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/4; found \"\(text)\"")
            }
            self.index = index
            self.count = count
        }

        public static let whole = try! Shard(parsing: "0/1")

        public func contains(point: Int) -> Bool { point % count == index }
        public var description: String { "\(index)/\(count)" }
    }

    /// The indices of the points `shard` runs, in grid order.
    public func points(in shard: Shard) -> [Int] { points.indices.filter { shard.contains(point: $0) } }

    /// Runs the points at `indices` (every point by default) over the machine's cores; the
    /// results in the order of `indices`.
    public func run(_ indices: [Int]? = nil, progress: (@Sendable (Int) -> Void)? = nil) -> [RunResult] {
        let chosen = indices ?? Array(points.indices)
        let results = ResultSlots(count: chosen.count)
        let done = Counter()
        DispatchQueue.concurrentPerform(iterations: chosen.count) { i in
            results.set(i, Simulator.run(points[chosen[i]].scenario))
            progress?(done.increment())
        }
        return results.values
    }

    /// The highest offered rate whose overall P95 and error rate keep the SLO.
    public static func highestRateWithinSLO(_ results: [RunResult], p95Ms: Double, maxErrorRate: Double = 0.005) -> RunResult? {
        results.filter { $0.overall.p95Ms <= p95Ms && $0.rates.errorRate + $0.rates.timeoutRate <= maxErrorRate }
            .max { $0.throughput.offeredRps < $1.throughput.offeredRps }
    }

    /// `document` (a scenario's JSON) with each `PATH=VALUE` setting applied, as a grid point's.
    public static func applying(_ settings: [String], to document: Data) throws(ScenarioError) -> Data {
        guard var object = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else {
            throw ScenarioError(path: "$", message: "expected a JSON object")
        }
        for setting in settings {
            let axis = try Axis(parsing: setting)
            guard axis.values.count == 1 else { throw ScenarioError(path: "--set \(axis.path)", message: "takes one value, found \(axis.values.count)") }
            object = try set(object, path: components(axis.path), value: parse(axis.values[0]), at: "$") as! [String: Any]
        }
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    enum Component { case key(String), index(Int) }

    static func components(_ path: String) -> [Component] {
        var result: [Component] = []
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { result.append(.key(String(name))) }
            result += indices.map { .index($0) }
        }
        return result
    }

    static func parse(_ value: String) -> Any {
        if let i = Int(value) { return i }
        if let d = Double(value) { return d }
        if value == "true" { return true }
        if value == "false" { return false }
        return value
    }

    static func set(_ node: Any, path: [Component], value: Any, at where_: String) throws(ScenarioError) -> Any {
        guard let first = path.first else { return value }
        switch first {
        case .key(let key):
            var object = node as? [String: Any] ?? [:]
            guard node is [String: Any] else { throw ScenarioError(path: where_, message: "is not an object, cannot set .\(key)") }
            object[key] = try set(object[key] ?? [String: Any](), path: Array(path.dropFirst()), value: value, at: "\(where_).\(key)")
            return object
        case .index(let i):
            guard var array = node as? [Any], array.indices.contains(i) else {
                throw ScenarioError(path: "\(where_)[\(i)]", message: "is not an element of an array")
            }
            array[i] = try set(array[i], path: Array(path.dropFirst()), value: value, at: "\(where_)[\(i)]")
            return array
        }
    }
}
