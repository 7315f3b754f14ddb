public import Foundation
import GRDB
public import Sim

/// One stored run, as listed.
public struct StoredRun: Sendable, Hashable {
    public var id: Int64
    public var experiment: String
    public var scenarioHash: String
    public var kind: ResultsStore.Kind
    public var seed: Int64?
    public var replication: Int
    public var codeVersion: String
    public var createdAt: String
    public var label: String
    public var wallSeconds: Double?
}

extension ResultsStore {
    static let runColumns = """
        run.id, experiment.name, experiment.scenarioHash, run.kind, run.seed, run.replication, run.codeVersion,
        run.createdAt, run.label, run.wallSeconds
        """

    static func storedRun(_ row: Row) -> StoredRun {
        StoredRun(
            id: row[0], experiment: row[1], scenarioHash: row[2], kind: Kind(rawValue: row[3]) ?? .predicted, seed: row[4],
            replication: row[5], codeVersion: row[6], createdAt: row[7], label: row[8], wallSeconds: row[9])
    }

    /// The newest runs first.
    public func runs(limit: Int = 50, scenarioHash: String? = nil, kind: Kind? = nil) throws -> [StoredRun] {
        try database.read { db in
            var sql = "SELECT \(Self.runColumns) FROM run JOIN experiment ON experiment.id = run.experimentId WHERE 1"
            var arguments: StatementArguments = []
            if let scenarioHash { sql += " AND experiment.scenarioHash = ?"; arguments += [scenarioHash] }
            if let kind { sql += " AND run.kind = ?"; arguments += [kind.rawValue] }
            sql += " ORDER BY run.id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.storedRun)
        }
    }

    /// A stored run and its full result, or `nil`.
    public func run(_ id: Int64) throws -> (StoredRun, RunResult)? {
        try database.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT \(Self.runColumns), run.resultJSON FROM run JOIN experiment ON experiment.id = run.experimentId WHERE run.id = ?",
                arguments: [id])
            else { return nil }
            let json: String = row[10]
            return (Self.storedRun(row), try JSONDecoder().decode(RunResult.self, from: Data(json.utf8)))
        }
    }

    /// The scenario JSON stored for a hash.
    public func scenarioJSON(hash: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT scenarioJSON FROM experiment WHERE scenarioHash = ?", arguments: [hash]) }
    }

    /// A metric of a run.
    public func metric(run: Int64, operation: String = "all", name: String) throws -> Double? {
        try database.read { db in
            try Double.fetchOne(db, sql: "SELECT value FROM metric WHERE runId = ? AND operation = ? AND name = ?", arguments: [run, operation, name])
        }
    }

    /// Writes `runs.csv`, `metrics.csv` and `series.csv` (every run, predicted and measured) into
    /// `directory`; returns the files written.
    public func exportCSV(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try database.read { db in
            var files: [String] = []
            func write(_ name: String, _ header: String, _ sql: String) throws {
                var text = header + "\n"
                for row in try Row.fetchAll(db, sql: sql) {
                    text += (0..<row.count).map { Self.csvCell(row[$0] as DatabaseValue) }.joined(separator: ",") + "\n"
                }
                let path = (directory as NSString).appendingPathComponent(name)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                files.append(path)
            }
            try write(
                "runs.csv", "run_id,experiment,scenario_hash,kind,seed,replication,code_version,created_at,label,wall_seconds",
                "SELECT \(Self.runColumns) FROM run JOIN experiment ON experiment.id = run.experimentId ORDER BY run.id")
            try write("metrics.csv", "run_id,operation,name,value", "SELECT runId, operation, name, value FROM metric ORDER BY runId, operation, name")
            try write("series.csv", "run_id,name,second,value", "SELECT runId, name, second, value FROM series ORDER BY runId, name, second")
            return files
        }
    }

    static func csvCell(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s):
            return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        case .blob: return ""
        }
    }
}
