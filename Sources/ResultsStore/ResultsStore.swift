public import Foundation
import GRDB
public import Sim

/// The SQLite results store shared by `simulate`, `sweep`, `loadtest` and `compare`: every
/// predicted (simulated) and measured (load-tested) run, with its scenario, its summary metrics
/// and its per-second series.
///
/// Tables (see `docs/results-store.md`): `experiment` (one per scenario hash, with the scenario
/// JSON), `run` (kind `predicted` or `measured`, seed, code version, wall time, the full result
/// JSON), `metric` (run, operation, name, value) and `series` (run, name, second, value).
public final class ResultsStore: Sendable {
    let database: DatabaseQueue

    /// Opens (creating and migrating when needed) the store at `path`.
    public init(path: String) throws {
        database = try DatabaseQueue(path: path)
        try Self.migrator.migrate(database)
    }

    /// An in-memory store, for tests.
    public init() throws {
        database = try DatabaseQueue()
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "experiment") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("scenarioHash", .text).notNull().unique()
                t.column("scenarioJSON", .text).notNull()
                t.column("createdAt", .text).notNull()
            }
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("experiment", onDelete: .cascade).notNull()
                t.column("kind", .text).notNull().check { ["predicted", "measured"].contains($0) }
                t.column("seed", .integer)
                t.column("replication", .integer).notNull().defaults(to: 0)
                t.column("codeVersion", .text).notNull()
                t.column("wallSeconds", .double)
                t.column("createdAt", .text).notNull()
                t.column("label", .text).notNull().defaults(to: "")
                t.column("resultJSON", .text).notNull()
            }
            try db.create(table: "metric") { t in
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("operation", .text).notNull()
                t.column("name", .text).notNull()
                t.column("value", .double).notNull()
                t.primaryKey(["runId", "operation", "name"])
            }
            try db.create(table: "series") { t in
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("name", .text).notNull()
                t.column("second", .integer).notNull()
                t.column("value", .double).notNull()
                t.primaryKey(["runId", "name", "second"])
            }
        }
        // The point of a sweep's grid a run is (`sweep` numbers them in grid order), so that
        // shards run apart merge back in the order one process would have stored them.
        migrator.registerMigration("v2") { db in
            try db.alter(table: "run") { t in t.add(column: "sweepPoint", .integer) }
        }
        return migrator
    }

    public enum Kind: String, Sendable, Codable { case predicted, measured }

    /// Stores a run under its scenario's experiment; returns the run id.
    @discardableResult
    public func save(
        _ result: RunResult, scenario: Scenario, kind: Kind = .predicted, replication: Int = 0, label: String = "",
        sweepPoint: Int? = nil, now: Date = Date()
    ) throws -> Int64 {
        let stamp = ISO8601DateFormatter().string(from: now)
        let json = String(decoding: try result.json(pretty: false), as: UTF8.self)
        return try database.write { db in
            let experiment: Int64
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE scenarioHash = ?", arguments: [scenario.hash]) {
                experiment = id
            } else {
                try db.execute(
                    sql: "INSERT INTO experiment (name, scenarioHash, scenarioJSON, createdAt) VALUES (?, ?, ?, ?)",
                    arguments: [scenario.name, scenario.hash, scenario.canonicalJSON, stamp])
                experiment = db.lastInsertedRowID
            }
            try db.execute(
                sql: """
                    INSERT INTO run (experimentId, kind, seed, replication, codeVersion, wallSeconds, createdAt, label, resultJSON, sweepPoint)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [experiment, kind.rawValue, Int64(bitPattern: result.seed), replication, result.codeVersion,
                            result.timing?.wallSeconds, stamp, label, json, sweepPoint])
            let run = db.lastInsertedRowID
            for (operation, name, value) in Self.metrics(result) {
                try db.execute(sql: "INSERT INTO metric (runId, operation, name, value) VALUES (?, ?, ?, ?)", arguments: [run, operation, name, value])
            }
            for (name, values) in Self.series(result) {
                for (second, value) in values.enumerated() {
                    try db.execute(sql: "INSERT INTO series (runId, name, second, value) VALUES (?, ?, ?, ?)", arguments: [run, name, second, value])
                }
            }
            return run
        }
    }

    /// The summary metrics of a result, as (operation, name, value).
    static func metrics(_ r: RunResult) -> [(String, String, Double)] {
        var rows: [(String, String, Double)] = [
            ("all", "offeredRps", r.throughput.offeredRps), ("all", "achievedRps", r.throughput.achievedRps),
            ("all", "errorRate", r.rates.errorRate), ("all", "shedRate", r.rates.shedRate), ("all", "timeoutRate", r.rates.timeoutRate),
            ("all", "ordersAccepted", Double(r.orders.accepted)), ("all", "oversoldUnits", Double(r.orders.oversoldUnits)),
            ("all", "kafkaMaxLag", Double(r.kafka.maxLag)), ("all", "kafkaDrainSeconds", r.kafka.drainSeconds),
            ("all", "maxReplicas", Double(r.replicas.max)),
        ]
        if let soldOut = r.orders.soldOutAtSeconds { rows.append(("all", "soldOutAtSeconds", soldOut)) }
        for op in [r.overall] + r.operations where op.requests > 0 {
            rows += [
                (op.name, "requests", Double(op.requests)), (op.name, "p50Ms", op.p50Ms), (op.name, "p95Ms", op.p95Ms),
                (op.name, "p99Ms", op.p99Ms), (op.name, "maxMs", op.maxMs), (op.name, "meanMs", op.meanMs),
                (op.name, "errors", Double(op.errors)), (op.name, "shed", Double(op.shed)), (op.name, "timeouts", Double(op.timeouts)),
            ]
        }
        for resource in r.resources {
            rows += [(resource.name, "utilisation", resource.utilisation), (resource.name, "meanQueueLength", resource.meanQueueLength)]
        }
        return rows
    }

    static func series(_ r: RunResult) -> [(String, [Double])] {
        let s = r.series
        var all: [(String, [Double])] = [
            ("offeredRps", s.offeredRps), ("achievedRps", s.achievedRps), ("errors", s.errors), ("shed", s.shed),
            ("timeouts", s.timeouts), ("p50Ms", s.p50Ms), ("p95Ms", s.p95Ms), ("p99Ms", s.p99Ms), ("kafkaLag", s.kafkaLag),
            ("available", s.available), ("reserved", s.reserved), ("sold", s.sold), ("readyReplicas", s.readyReplicas),
        ]
        for (name, values) in s.utilisation.sorted(by: { $0.key < $1.key }) { all.append(("utilisation.\(name)", values)) }
        // One row per 5-second window (its `second` column is the window number).
        if let windows = s.p95Ms5s { all.append(("p95Ms5s", windows)) }
        return all
    }
}
