import ArgumentParser
import Domain
import Foundation
import LiveMongo
import LiveRedis
import LiveTools

/// `flashdeal audit`: the end-of-sale (and end-of-drill) audit on the real backends.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the sale against its event store: nothing lost, duplicated, oversold or charged twice.",
        discussion: """
            Replays the event store (MongoDB) through the Domain's projection and compares it with every deal's \
            gate in Redis (counters, conservation, oversell) and with MongoDB's orders; checks that no order was \
            charged twice; with --acknowledged, checks that every order a client was told was placed (lines \
            `ORDER <id> <answer>` in the client's log, as k6/chaos.js writes them) is there in a state its answers \
            allow. Prints the findings (or --json) and exits 1 when there is one.
            """)

    @OptionGroup var backends: BackendOptions
    @Option(help: "A client's log of the orders it was told about.") var acknowledged: String?
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let configuration = try backends.backends()
        var acks: [SaleAudit.Acknowledged] = []
        if let path = acknowledged {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read --acknowledged \(path)") }
            acks = try SaleAudit.Acknowledged.parse(text)
        }
        let client = try await MongoClient(uri: configuration.mongo.uri ?? "")
        let audit = SaleAudit(
            events: try await MongoEventStore(client: client),
            ledger: try await RedisStockLedger(pool: try await RedisPool(.init(url: configuration.redis.url ?? "", connections: 1)), prefix: configuration.redis.keyPrefix),
            orders: try await MongoOrderRepository(client: client))
        let report = try await audit.run(acknowledged: acks)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("audit: \(report.events) events, \(report.deals) deals, \(report.acknowledged) acknowledged orders")
            if let replay = report.replay { print("  the event store does not replay: \(replay)") }
            for (name, findings) in [("lost", report.lost), ("wrong state", report.wrongState), ("gates", report.gates), ("charges", report.charges)] {
                print("  \(name): \(findings.count)")
                for finding in findings.prefix(20) { print("    \(finding)") }
            }
            print(report.isClean ? "audit: clean" : "audit: FINDINGS")
        }
        if !report.isClean { throw ExitCode.failure }
    }
}
