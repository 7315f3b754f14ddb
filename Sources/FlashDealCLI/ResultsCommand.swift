import ArgumentParser
import Foundation
import ResultsStore
import Sim

struct ResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "List, show and export the runs in the results store.",
        subcommands: [List.self, Show.self, Export.self, Merge.self])

    struct StoreOption: ParsableArguments {
        @Option(name: .customLong("results"), help: "The results store (SQLite).") var path = "flashdeal-results.sqlite"

        init() {}
        init(path: String) { self.path = path }

        func open() throws -> ResultsStore {
            do {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                return try ResultsStore(path: path)
            } catch {
                throw ValidationError("cannot open the results store \(path): \(error)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest runs.")
        @OptionGroup var store: StoreOption
        @Option(help: "How many.") var limit = 30

        func run() throws {
            let runs = try store.open().runs(limit: limit)
            var rows = [["id", "scenario", "hash", "kind", "seed", "rep", "created", "wall s", "label"]]
            for r in runs {
                rows.append([
                    "\(r.id)", r.experiment, r.scenarioHash, r.kind.rawValue, r.seed.map { "\(UInt64(bitPattern: $0))" } ?? "",
                    "\(r.replication)", r.createdAt, r.wallSeconds.map { String(format: "%.2f", $0) } ?? "", r.label,
                ])
            }
            print(TableReport.table(rows), terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: its table, or its JSON.")
        @OptionGroup var store: StoreOption
        @Argument(help: "The run id.") var id: Int64
        @Flag(help: "Print the stored JSON.") var json = false

        func run() throws {
            guard let (_, result) = try store.open().run(id) else { throw ValidationError("no run \(id) in \(store.path)") }
            if json {
                FileHandle.standardOutput.write(try result.json())
                print()
            } else {
                print(TableReport.render(result), terminator: "")
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the runs of other stores into this one: the shards of a sweep (sweep --shard), in grid order.")
        @OptionGroup var store: StoreOption
        @Argument(help: "The stores to copy from.") var sources: [String]

        func run() throws {
            guard !sources.isEmpty else { throw ValidationError("name at least one store to merge from") }
            let target = try store.open()
            do {
                let copied = try target.merge(from: sources)
                print("merged \(copied) runs from \(sources.count) stores into \(store.path)")
            } catch let error as ResultsStore.MergeError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write runs.csv, metrics.csv and series.csv.")
        @OptionGroup var store: StoreOption
        @Option(help: "The folder to write into.") var csv = "notebooks-data"

        func run() throws {
            for file in try store.open().exportCSV(to: csv) { print(file) }
        }
    }
}
