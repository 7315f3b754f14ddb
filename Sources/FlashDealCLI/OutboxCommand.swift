import ArgumentParser
import Foundation
import LiveRedis

/// `flashdeal outbox`: the relay's dead stream, for an operator after an alert on
/// `flashdeal_outbox_dead_letters`.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect and re-drive outbox entries the relay could not read.",
        subcommands: [List.self, Redrive.self])

    struct Connection: ParsableArguments {
        @OptionGroup var backends: BackendOptions

        func deadLetters() async throws -> OutboxDeadLetters {
            let configuration = try backends.backends(mongo: false)
            let pool = try await RedisPool(.init(url: configuration.redis.url ?? "", connections: 1))
            return OutboxDeadLetters(pool: pool, prefix: configuration.redis.keyPrefix)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, oldest first: id, stream, entry, reason, fields.")
        @OptionGroup var connection: Connection
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let letters = try await connection.deadLetters().list(limit: limit)
            for letter in letters {
                if json {
                    let object: [String: Any] = [
                        "id": letter.id, "stream": letter.stream, "entry": letter.entryID, "reason": letter.reason, "fields": letter.fields,
                    ]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                } else {
                    print("\(letter.id)  \(letter.stream)  \(letter.entryID)  \(letter.reason)")
                    for (key, value) in letter.fields.sorted(by: { $0.key < $1.key }) { print("    \(key): \(value)") }
                }
            }
            if !json { print("\(letters.count) dead letter\(letters.count == 1 ? "" : "s")") }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back on the streams they came from, for the relay to send again.")
        @OptionGroup var connection: Connection
        @Argument(help: "Dead letter ids (from `outbox list`).") var ids: [String] = []
        @Flag(help: "Every dead letter.") var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("name dead letter ids, or --all (not both)") }
        }

        func run() async throws {
            let letters = try await connection.deadLetters().redrive(all ? nil : ids)
            print("re-drove \(letters.count) dead letter\(letters.count == 1 ? "" : "s")")
        }
    }
}
