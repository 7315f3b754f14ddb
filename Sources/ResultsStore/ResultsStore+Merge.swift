public import Foundation
import GRDB
import Sim

extension ResultsStore {
    /// Copies every run of the stores at `paths` into this one (with its experiment, metrics and
    /// series; an experiment this store already holds, by scenario hash, is shared): the shards of
    /// a sweep that ran as separate processes (`flashdeal sweep --shard i/n`, an Indexed Job's
    /// pods) become one store. Runs go in by their sweep point, then in the order the sources are
    /// given and their own order, so a merged sweep holds its runs in the order one process would
    /// have stored them. Returns how many runs were copied.
    @discardableResult
    public func merge(from paths: [String]) throws -> Int {
        struct Source { var experiments: [String: Row]; var runs: [Row]; var metrics: [Int64: [Row]]; var series: [Int64: [Row]] }
        var sources: [Source] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { throw MergeError("no results store at \(path)") }
            var configuration = Configuration()
            configuration.readonly = true
            let queue: DatabaseQueue
            do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
                throw MergeError("cannot open \(path) as a results store: \(error)")
            }
            try sources.append(queue.read { db in
                guard try db.tableExists("run"), try db.tableExists("experiment") else { throw MergeError("\(path) is not a results store (no run table)") }
                let hasPoint = try db.columns(in: "run").contains { $0.name == "sweepPoint" }
                let experiments = try Row.fetchAll(db, sql: "SELECT id, name, scenarioHash, scenarioJSON, createdAt FROM experiment")
                let runs = try Row.fetchAll(db, sql: """
                    SELECT run.id, experiment.scenarioHash, kind, seed, replication, codeVersion, wallSeconds, run.createdAt, label, resultJSON,
                           \(hasPoint ? "sweepPoint" : "NULL") FROM run JOIN experiment ON experiment.id = run.experimentId ORDER BY run.id
                    """)
                return Source(
                    experiments: Dictionary(experiments.map { ($0["scenarioHash"], $0) }, uniquingKeysWith: { a, _ in a }),
                    runs: runs,
                    metrics: Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT runId, operation, name, value FROM metric"), by: { $0["runId"] }),
                    series: Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT runId, name, second, value FROM series"), by: { $0["runId"] }))
            })
        }
        // (sweep point, source, run id): a run with no point after every run with one.
        let order = sources.enumerated().flatMap { s, source in source.runs.map { (point: ($0[10] as Int64?) ?? .max, source: s, run: $0) } }
            .sorted { ($0.point, $0.source, $0.run[0] as Int64) < ($1.point, $1.source, $1.run[0] as Int64) }
        return try database.write { db in
            var experiments: [String: Int64] = [:]
            for (point, s, run) in order {
                let hash: String = run[1]
                if experiments[hash] == nil {
                    if let id = try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE scenarioHash = ?", arguments: [hash]) {
                        experiments[hash] = id
                    } else {
                        let e = sources[s].experiments[hash]!
                        try db.execute(
                            sql: "INSERT INTO experiment (name, scenarioHash, scenarioJSON, createdAt) VALUES (?, ?, ?, ?)",
                            arguments: [e["name"], hash, e["scenarioJSON"], e["createdAt"]])
                        experiments[hash] = db.lastInsertedRowID
                    }
                }
                try db.execute(
                    sql: """
                        INSERT INTO run (experimentId, kind, seed, replication, codeVersion, wallSeconds, createdAt, label, resultJSON, sweepPoint)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [experiments[hash], run[2], run[3], run[4], run[5], run[6], run[7], run[8], run[9], point == .max ? nil : point])
                let id = db.lastInsertedRowID
                let old: Int64 = run[0]
                for m in sources[s].metrics[old] ?? [] {
                    try db.execute(sql: "INSERT INTO metric (runId, operation, name, value) VALUES (?, ?, ?, ?)", arguments: [id, m[1], m[2], m[3]])
                }
                for v in sources[s].series[old] ?? [] {
                    try db.execute(sql: "INSERT INTO series (runId, name, second, value) VALUES (?, ?, ?, ?)", arguments: [id, v[1], v[2], v[3]])
                }
            }
            return order.count
        }
    }

    /// What this store holds, as text that two stores share exactly when they hold the same
    /// experiments and the same runs in the same order, each with the same result, metrics and
    /// series: everything but row ids, the times runs were stored and their wall-clock figures
    /// (the result's `timing` and `wallSeconds`), which differ from one execution to the next.
    public func contentFingerprint() throws -> String {
        try database.read { db in
            var lines = try Row.fetchAll(db, sql: "SELECT scenarioHash, name, scenarioJSON FROM experiment ORDER BY scenarioHash").map {
                "experiment \($0[0] as String) \($0[1] as String) \($0[2] as String)"
            }
            for run in try Row.fetchAll(db, sql: """
                SELECT run.id, scenarioHash, kind, seed, replication, codeVersion, label, resultJSON, sweepPoint
                FROM run JOIN experiment ON experiment.id = run.experimentId ORDER BY run.id
                """) {
                var result = try JSONDecoder().decode(RunResult.self, from: Data((run[7] as String).utf8))
                result.timing = nil
                let point = (run[8] as Int64?).map(String.init) ?? "-"
                lines.append("run \(run[1] as String) \(run[2] as String) \(run[3] as Int64? ?? 0) \(run[4] as Int64) \(run[5] as String) [\(run[6] as String)] point \(point)")
                lines.append(String(decoding: try result.json(pretty: false), as: UTF8.self))
                let id: Int64 = run[0]
                for m in try Row.fetchAll(db, sql: "SELECT operation, name, value FROM metric WHERE runId = ? ORDER BY operation, name", arguments: [id]) {
                    lines.append("  \(m[0] as String) \(m[1] as String) \(m[2] as Double)")
                }
                for v in try Row.fetchAll(db, sql: "SELECT name, second, value FROM series WHERE runId = ? ORDER BY name, second", arguments: [id]) {
                    lines.append("  \(v[0] as String)[\(v[1] as Int64)] \(v[2] as Double)")
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// A results store that cannot be merged, named.
    public struct MergeError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
