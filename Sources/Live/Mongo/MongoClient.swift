import CMongoC
import Domain
import Foundation
import LiveRuntime
import Tracing

/// A libmongoc client pool. `mongoc_client_t` is not thread-safe, so every operation pops a
/// client from the (thread-safe) pool, uses it on one of MongoDB's threads (``BlockingCalls``),
/// and pushes it back. Documents cross the boundary as JSON: built with `bson_new_from_json`,
/// read back with `bson_as_relaxed_extended_json`.
public final class MongoClient: @unchecked Sendable {
    // Safe: the pool is thread-safe by libmongoc's contract; clients are used by one thread at a
    // time between pop and push.
    private let pool: OpaquePointer
    private let uri: OpaquePointer
    public let database: String
    private static let initialised: Void = { mongoc_init() }()

    /// How long an operation may wait for MongoDB. Each bound applies where the URI sets none of
    /// its own (`serverSelectionTimeoutMS`, `connectTimeoutMS`, `socketTimeoutMS`: the URI wins).
    public struct Timeouts: Sendable, Hashable {
        /// To find a server that answers (MongoDB down: the time an operation takes to fail).
        public var serverSelection: Duration?
        public var connect: Duration?
        /// For a reply on a connection (MongoDB hung: the time an operation takes to fail).
        public var socket: Duration?

        public init(serverSelection: Duration? = nil, connect: Duration? = nil, socket: Duration? = nil) {
            self.serverSelection = serverSelection
            self.connect = connect
            self.socket = socket
        }

        /// libmongoc's own: 30 s to find a server, 10 s to connect, 5 min for a reply. For the
        /// writer, whose batches may wait on a busy database and are retried when they fail.
        public static let library = Timeouts()
        /// For what a request waits on (catalogue reads, readiness): a MongoDB that is down or
        /// hung fails the read within seconds instead of holding the request's worker for 30 s or
        /// 5 min, long enough for every worker to be held by one.
        public static let requestPath = Timeouts(serverSelection: .seconds(2), connect: .seconds(2), socket: .seconds(5))
    }

    /// Connects and pings: an unreachable server is an error naming it. `majority` sets the
    /// write concern `w: majority` (a write is acknowledged once most of a replica set holds it)
    /// where the URI names none of its own (`w=...` wins).
    public init(uri text: String, timeouts: Timeouts = .library, majority: Bool = true) async throws {
        _ = Self.initialised
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(text, &error) else {
            throw MongoError("invalid MongoDB URI \"\(text)\": \(Self.message(error))")
        }
        for (option, bound) in [
            (MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeouts.serverSelection), (MONGOC_URI_CONNECTTIMEOUTMS, timeouts.connect),
            (MONGOC_URI_SOCKETTIMEOUTMS, timeouts.socket),
        ] {
            guard let bound, !mongoc_uri_has_option(uri, option) else { continue }
            mongoc_uri_set_option_as_int32(uri, option, Int32(clamping: bound.nanoseconds / 1_000_000))
        }
        if majority, !mongoc_uri_has_option(uri, MONGOC_URI_W) {
            let concern = mongoc_write_concern_new()
            mongoc_write_concern_set_wmajority(concern, 0)
            mongoc_uri_set_write_concern(uri, concern)
            mongoc_write_concern_destroy(concern)
        }
        guard let pool = mongoc_client_pool_new(uri) else {
            mongoc_uri_destroy(uri)
            throw MongoError("cannot create a client pool for \(text)")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        self.uri = uri
        self.pool = pool
        database = mongoc_uri_get_database(uri).map { String(cString: $0) } ?? "flashdeal"
        do {
            _ = try await command(["ping": 1])
        } catch {
            throw MongoError("cannot reach MongoDB at \(text): \(error)")
        }
    }

    /// An integer option of the URI the pool was made with (a time-out in milliseconds, say), or
    /// nil when neither the URI nor `Timeouts` set it.
    public func option(_ name: String) -> Int32? {
        mongoc_uri_has_option(uri, name) ? mongoc_uri_get_option_as_int32(uri, name, 0) : nil
    }

    /// Whether writes wait for a majority of the replica set (`w: majority`).
    public var writesWaitForMajority: Bool { mongoc_write_concern_get_wmajority(mongoc_uri_get_write_concern(uri)) }

    deinit {
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    /// Runs `body` with a client of its own on one of MongoDB's threads (``BlockingCalls``), in a
    /// client span `<operation> <collection>` (inside traced work only: see `withChildSpan`) with
    /// OpenTelemetry's database attributes (`db.system.name` mongodb, `db.operation.name`,
    /// `db.collection.name`, `db.namespace`).
    func run<T: Sendable>(
        _ operation: String, _ collection: String? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        try await withChildSpan(collection.map { "\(operation) \($0)" } ?? operation, ofKind: .client, isolation: isolation) { span in
            if let span {
                span.attributes["db.system.name"] = "mongodb"
                span.attributes["db.operation.name"] = operation
                span.attributes["db.namespace"] = database
                if let collection { span.attributes["db.collection.name"] = collection }
            }
            return try await BlockingCalls.mongo { [self] in
                // Blocks until a client is free; nil only when the pool is being destroyed.
                guard let client = mongoc_client_pool_pop(pool) else { throw MongoError("the MongoDB client pool is closed") }
                defer { mongoc_client_pool_push(pool, client) }
                return try body(client)
            }
        }
    }

    /// A database command; returns its reply.
    public func command(_ command: [String: Any]) async throws -> [String: Any] {
        let name = command.keys.min() ?? "command"
        return try await self.command(name: name, collection: command[name] as? String, json: try Self.json(command, sorted: true))
    }

    /// A command written as JSON text, for documents whose key order matters beyond the first key
    /// (an index's keys).
    func command(name: String, collection: String? = nil, json: String) async throws -> [String: Any] {
        let database = self.database
        let reply = try await run(name, collection) { client in
            let doc = try Self.bson(json)
            defer { bson_destroy(doc) }
            return try Self.withReply { reply, error in
                mongoc_client_command_simple(client, database, doc, nil, reply, &error)
            }
        }
        return try Self.object(reply)
    }

    /// Inserts documents (ordered); duplicate keys are reported as `MongoError.isDuplicateKey`.
    package func insert(_ collection: String, _ documents: [[String: Any]]) async throws {
        let texts = try documents.map { try Self.json($0) }
        let database = self.database
        try await run("insertMany", collection) { client in
            let coll = mongoc_client_get_collection(client, database, collection)
            defer { mongoc_collection_destroy(coll) }
            let docs = try texts.map(Self.bson)
            defer { docs.forEach { bson_destroy($0) } }
            var error = bson_error_t()
            var pointers: [OpaquePointer?] = docs
            let ok = pointers.withUnsafeMutableBufferPointer { p in
                mongoc_collection_insert_many(coll, p.baseAddress, docs.count, nil, nil, &error)
            }
            if !ok { throw MongoError(error) }
        }
    }

    /// `updateOne` (inserting when nothing matches, with `upsert`); returns the number of
    /// documents matched.
    func updateOne(_ collection: String, filter: [String: Any], update: [String: Any], upsert: Bool = false) async throws -> Int {
        let (f, u, o) = (try Self.json(filter), try Self.json(update), try Self.json(["upsert": upsert]))
        let database = self.database
        return try await run("updateOne", collection) { client in
            let coll = mongoc_client_get_collection(client, database, collection)
            defer { mongoc_collection_destroy(coll) }
            let (fd, ud, od) = (try Self.bson(f), try Self.bson(u), try Self.bson(o))
            defer { bson_destroy(fd); bson_destroy(ud); bson_destroy(od) }
            let reply = try Self.object(try Self.withReply { reply, error in mongoc_collection_update_one(coll, fd, ud, od, reply, &error) })
            return (reply["matchedCount"] as? NSNumber)?.intValue ?? 0
        }
    }

    /// `find` with options (limit, projection, ...) and a sort in the given key order; returns the
    /// documents.
    package func find(_ collection: String, filter: [String: Any], sort: [(String, Int)] = [], options: [String: Any] = [:]) async throws -> [[String: Any]] {
        let (f, o) = (try Self.json(filter), try Self.json(options, sort: sort))
        let database = self.database
        let texts = try await run("find", collection) { client in
            let coll = mongoc_client_get_collection(client, database, collection)
            defer { mongoc_collection_destroy(coll) }
            let (fd, od) = (try Self.bson(f), try Self.bson(o))
            defer { bson_destroy(fd); bson_destroy(od) }
            let cursor = mongoc_collection_find_with_opts(coll, fd, od, nil)
            defer { mongoc_cursor_destroy(cursor) }
            var results: [String] = []
            var doc: OpaquePointer?
            while mongoc_cursor_next(cursor, &doc) {
                results.append(try Self.text(doc!))
            }
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) { throw MongoError(error) }
            return results
        }
        return try texts.map(Self.object)
    }

    /// Drops a collection (replay rebuilds it); a missing collection is fine.
    func drop(_ collection: String) async throws {
        do {
            _ = try await command(["drop": collection])
        } catch let error as MongoError where error.code == 26 || error.message.contains("ns not found") {}
    }

    // MARK: BSON and JSON

    /// JSON for libmongoc. A command's name must be its first key, so commands are written with
    /// sorted keys (every command used here sorts its name first); documents and filters are not
    /// (sorting every document's keys cost a tenth of the consumer's CPU).
    static func json(_ object: [String: Any], sorted: Bool = false) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: sorted ? [.sortedKeys] : []), as: UTF8.self)
    }

    /// `object` with a `sort` document whose keys keep their order (a dictionary would lose it).
    static func json(_ object: [String: Any], sort: [(String, Int)]) throws -> String {
        let text = try json(object)
        guard !sort.isEmpty else { return text }
        let spec = "{" + sort.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        return String(text.dropLast()) + (object.isEmpty ? "" : ",") + "\"sort\":" + spec + "}"
    }

    static func bson(_ json: String) throws -> OpaquePointer {
        var error = bson_error_t()
        let doc = json.withCString { p in bson_new_from_json(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), -1, &error) }
        guard let doc else { throw MongoError("cannot build BSON from \(json.prefix(200)): \(message(error))") }
        return doc
    }

    /// A document as relaxed extended JSON.
    static func text(_ doc: OpaquePointer) throws -> String {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(doc, &length) else { throw MongoError("cannot read a BSON document") }
        defer { bson_free(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    static func object(_ json: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw MongoError("a document is not an object")
        }
        return object
    }

    /// Calls `body` with a reply document (aligned storage libmongoc initialises) and returns it as JSON.
    static func withReply(_ body: (OpaquePointer, inout bson_error_t) -> Bool) throws -> String {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        defer { storage.deallocate() }
        let reply = OpaquePointer(storage)
        var error = bson_error_t()
        let ok = body(reply, &error)
        defer { bson_destroy(reply) }
        guard ok else { throw MongoError(error) }
        return try text(reply)
    }

    static func message(_ error: bson_error_t) -> String {
        withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// A MongoDB failure, with the server's code where there is one (11000: duplicate key).
public struct MongoError: Error, CustomStringConvertible, Sendable {
    public var code: UInt32
    public var message: String

    init(_ message: String) {
        code = 0
        self.message = message
    }

    init(_ error: bson_error_t) {
        code = error.code
        message = MongoClient.message(error)
    }

    public var isDuplicateKey: Bool { code == 11000 || message.contains("E11000") || message.contains("duplicate key") }
    public var description: String { "MongoDB: \(message)" + (code != 0 ? " (code \(code))" : "") }
}
