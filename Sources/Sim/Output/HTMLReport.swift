import Foundation

/// The self-contained HTML report of a run (`--report DIR`): the summary and SVG charts.
public enum HTMLReport {
    /// Writes `index.html` for the runs (replications of one scenario; the charts show the first)
    /// into `directory`; returns its path.
    public static func write(_ runs: [RunResult], to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("index.html")
        try html(runs).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    public static func charts(_ r: RunResult, suffix: String = "", dashed: Bool = false) -> [SVGChart] {
        let s = r.series
        let n = suffix.isEmpty ? "" : " (\(suffix))"
        return [
            SVGChart(title: "Latency percentiles over time", unit: "ms", lines: [
                .init("p50\(n)", s.p50Ms, dashed: dashed), .init("p95\(n)", s.p95Ms, dashed: dashed), .init("p99\(n)", s.p99Ms, dashed: dashed),
            ]),
            SVGChart(title: "Throughput against offered load", unit: "requests/s", lines: [
                .init("offered\(n)", s.offeredRps, dashed: dashed), .init("achieved\(n)", s.achievedRps, dashed: dashed),
                .init("errors\(n)", s.errors, dashed: dashed), .init("time-outs\(n)", s.timeouts, dashed: dashed),
            ]),
            SVGChart(title: "Utilisation per resource", unit: "fraction busy",
                     lines: s.utilisation.sorted { $0.key < $1.key }.map { .init("\($0.key)\(n)", $0.value, dashed: dashed) }),
            SVGChart(title: "Kafka consumer lag", unit: "messages", lines: [.init("lag\(n)", s.kafkaLag, dashed: dashed)]),
            SVGChart(title: "Stock over time", unit: "units", lines: [
                .init("available\(n)", s.available, dashed: dashed), .init("reserved\(n)", s.reserved, dashed: dashed),
                .init("sold\(n)", s.sold, dashed: dashed),
            ]),
            SVGChart(title: "Ready replicas over time", unit: "pods", lines: [.init("replicas\(n)", s.readyReplicas, dashed: dashed)]),
        ]
    }

    static func html(_ runs: [RunResult]) -> String {
        let r = runs[0]
        let intervals = runs.count > 1 ? Replications.intervals(runs) : [:]
        var body = "<h1>Flash Deal simulation: \(SVGChart.escape(r.scenario))</h1>"
        body += "<p>Seed \(r.seed), \(runs.count) replication\(runs.count == 1 ? "" : "s"), scenario hash <code>\(r.scenarioHash)</code>, code \(r.codeVersion).</p>"
        body += "<pre>\(SVGChart.escape(TableReport.render(r, intervals: intervals)))</pre>"
        for chart in charts(r) { body += "<div>\(chart.render())</div>" }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>Flash Deal: \(SVGChart.escape(r.scenario))</title>
            <style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}</style>
            </head><body>\(body)</body></html>
            """
    }
}
