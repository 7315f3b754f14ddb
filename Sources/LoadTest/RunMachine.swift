public import Foundation

/// Where a measurement ran: the machine, and where the scripts put the server and the load
/// generator (scripts/live-server.sh's FLASHDEAL_PIN): every process sharing every core, or the API
/// on core 0 and k6 on core 1. Calibrations, validation tables and each stored k6 run say it, so
/// a prediction is compared with runs of the placement its scenario models.
public enum RunMachine {
    /// `split` when FLASHDEAL_PIN=split, else `shared`.
    public static func placementTag(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["FLASHDEAL_PIN"] == "split" ? "split" : "shared"
    }

    public static func placement(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        placementTag(environment: environment) == "split"
            ? "the API on core 0 and the load generator on core 1 (FLASHDEAL_PIN=split)" : "every process sharing every core"
    }

    /// A stored k6 run's label: `k6, shared` or `k6, split`, and what ran before it
    /// (`--before-run`: `make validate` starts the server and its backends afresh).
    public static func label(before command: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        "k6, \(placementTag(environment: environment))" + (command.map { ", after `\($0)`" } ?? "")
    }

    /// The machine and the placement, for reports.
    public static func describe(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(model)), Linux \(kernel), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, "
            + placement(environment: environment)
    }
}
