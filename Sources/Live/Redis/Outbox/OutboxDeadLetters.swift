public import Domain
import Foundation

/// An outbox or journal entry the relay could not read, kept whole: the stream it came from, its
/// id there, why it was refused, and every field it had, so it can be inspected and re-driven.
public struct DeadLetter: Sendable, Hashable {
    /// The dead stream's id of this letter (empty before it is stored).
    public var id: String
    public var stream: String
    public var entryID: String
    public var reason: String
    public var fields: [String: String]

    public init(id: String = "", stream: String, entryID: String, reason: String, fields: [String: String]) {
        self.id = id
        self.stream = stream
        self.entryID = entryID
        self.reason = reason
        self.fields = fields
    }
}

/// The relay's dead stream, `fd:outbox:dead`: what `flashdeal outbox list` shows and
/// `flashdeal outbox redrive` puts back. Re-driving appends the entry's fields to its stream
/// again (a new entry id) and only then deletes the letter: a crash between the two re-drives it
/// twice, which is harmless, since every event keeps its id and the writer deduplicates by it.
public struct OutboxDeadLetters: Sendable {
    let pool: RedisPool
    public let key: String

    public init(pool: RedisPool, prefix: String = "fd") {
        self.pool = pool
        key = Self.key(prefix: prefix)
    }

    static func key(prefix: String) -> String { "\(prefix):outbox:dead" }

    /// Stores letters, one dead-stream entry each, in one round trip.
    func add(_ letters: [DeadLetter]) async throws {
        let commands = try letters.map { letter in
            ["XADD", key, "*", "stream", letter.stream, "entry", letter.entryID, "reason", letter.reason,
             "fields", String(decoding: try JSONEncoder().encode(letter.fields), as: UTF8.self)]
        }
        for reply in try await pool.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError(.protocolError, "cannot store a dead letter: \(message)") }
        }
    }

    /// The letters, oldest first, at most `limit`.
    public func list(limit: Int = 1000) async throws -> [DeadLetter] {
        try Self.letters(try await pool.send(["XRANGE", key, "-", "+", "COUNT", String(limit)]))
    }

    /// Puts the named letters (every letter when `ids` is nil) back on the streams they came from;
    /// returns those re-driven. A letter id that is not in the dead stream is an error naming it.
    @discardableResult
    public func redrive(_ ids: [String]? = nil) async throws -> [DeadLetter] {
        let all = try await list(limit: 100_000)
        let chosen: [DeadLetter]
        if let ids {
            let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let unknown = ids.filter { byID[$0] == nil }
            guard unknown.isEmpty else { throw RedisError(.protocolError, "no dead letter \(unknown.joined(separator: ", ")) in \(key)") }
            chosen = ids.compactMap { byID[$0] }
        } else {
            chosen = all
        }
        for letter in chosen {
            let fields = letter.fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
            guard !fields.isEmpty else { throw RedisError(.protocolError, "dead letter \(letter.id) has no fields to re-drive") }
            _ = try await pool.send(["XADD", letter.stream, "*"] + fields)
            _ = try await pool.send(["XDEL", key, letter.id])
        }
        return chosen
    }

    static func letters(_ reply: RedisReply) throws -> [DeadLetter] {
        try OutboxRelay.entries(reply.array).map { entry in
            guard let stream = entry.fields["stream"], let entryID = entry.fields["entry"] else {
                throw RedisError(.protocolError, "dead letter \(entry.id) names no stream or entry")
            }
            // Letters written before the fields were kept (stream, entry and reason only) have none.
            var fields: [String: String] = [:]
            if let json = entry.fields["fields"] {
                guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)) else {
                    throw RedisError(.protocolError, "dead letter \(entry.id) has unreadable fields")
                }
                fields = decoded
            }
            return DeadLetter(id: entry.id, stream: stream, entryID: entryID, reason: entry.fields["reason"] ?? "", fields: fields)
        }
    }
}
