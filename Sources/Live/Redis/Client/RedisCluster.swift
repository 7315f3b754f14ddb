import LiveRuntime
import NIOCore
import NIOPosix
import Synchronization

/// How Redis Cluster routes the shop's commands: `HashSlot`'s slots, and the keys each command names.
typealias RedisHashSlot = HashSlot

extension HashSlot {
    /// The keys a command names, as Redis Cluster routes it: `EVAL`/`EVALSHA`'s `numkeys` keys,
    /// `XREADGROUP`/`XREAD`'s streams, every argument of the multi-key commands the shop sends,
    /// the first argument of the rest; none for the commands that name no key.
    static func keys(of command: [String]) -> [String] {
        guard let name = command.first?.uppercased() else { return [] }
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL":
            guard command.count > 2, let n = Int(command[2]), n >= 0, command.count >= 3 + n else { return [] }
            return Array(command[3..<(3 + n)])
        case "XREAD", "XREADGROUP":
            guard let streams = command.firstIndex(where: { $0.uppercased() == "STREAMS" }) else { return [] }
            let rest = command[(streams + 1)...]
            return Array(rest.prefix(rest.count / 2))
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH":
            return Array(command.dropFirst())
        case "MULTI", "EXEC", "DISCARD", "PING", "INFO", "WAIT", "SCRIPT", "CLUSTER", "ASKING", "CONFIG", "PUBLISH", "AUTH", "SELECT", "TIME", "DBSIZE":
            return []
        default:
            return command.count > 1 ? [command[1]] : []
        }
    }

    /// The one slot every key of `commands` is in; nil when they name no key.
    static func of(_ commands: [[String]]) throws(RedisError) -> Int? {
        var found: (key: String, slot: Int)?
        for key in commands.lazy.flatMap(keys(of:)) {
            let slot = of(key)
            if let found, found.slot != slot {
                throw RedisError(
                    .protocolError,
                    "one call names keys of two hash slots, which a Redis Cluster cannot run together: \(found.key) (slot \(found.slot)) and \(key) (slot \(slot))")
            }
            found = found ?? (key, slot)
        }
        return found?.slot
    }
}

/// Which primary serves each hash slot, read from `CLUSTER SHARDS` (Redis 7).
struct RedisSlotMap: Sendable, Hashable {
    /// (first slot, last slot, primary as host:port), by first slot.
    private(set) var ranges: [(first: Int, last: Int, node: String)]

    static func == (a: Self, b: Self) -> Bool { a.ranges.elementsEqual(b.ranges) { $0 == $1 } }
    func hash(into hasher: inout Hasher) { for r in ranges { hasher.combine(r.first); hasher.combine(r.node) } }

    init(ranges: [(first: Int, last: Int, node: String)]) { self.ranges = ranges.sorted { $0.first < $1.first } }

    /// Reads a `CLUSTER SHARDS` reply: each shard's slot ranges and the primary that is online.
    init(shards reply: RedisReply) throws(RedisError) {
        guard case .array(let shards) = reply else { throw RedisError(.protocolError, "CLUSTER SHARDS answered \(reply)") }
        var ranges: [(first: Int, last: Int, node: String)] = []
        for shard in shards {
            let fields = Self.fields(shard)
            guard case .array(let slots)? = fields["slots"], case .array(let nodes)? = fields["nodes"] else { continue }
            let primary = nodes.map(Self.fields).first { $0["role"]?.string == "master" && $0["health"]?.string != "fail" }
            guard let primary, let port = primary["port"]?.integer ?? primary["tls-port"]?.integer else { continue }
            let host = [primary["endpoint"]?.string, primary["ip"]?.string].compactMap { $0 }.first { !$0.isEmpty && $0 != "?" } ?? "127.0.0.1"
            let bounds = slots.compactMap { $0.integer.map(Int.init) ?? $0.string.flatMap { Int($0) } }
            for i in stride(from: 0, to: bounds.count - 1, by: 2) { ranges.append((bounds[i], bounds[i + 1], "\(host):\(port)")) }
        }
        guard !ranges.isEmpty else { throw RedisError(.protocolError, "CLUSTER SHARDS named no primary serving any slot") }
        self.init(ranges: ranges)
    }

    static func fields(_ reply: RedisReply) -> [String: RedisReply] {
        guard case .array(let items) = reply else { return [:] }
        var out: [String: RedisReply] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) { if let key = items[i].string { out[key] = items[i + 1] } }
        return out
    }

    /// The primary serving `slot`, or nil when none does (the cluster is not whole).
    func node(for slot: Int) -> String? {
        var low = 0, high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if slot < ranges[mid].first { high = mid - 1 } else if slot > ranges[mid].last { low = mid + 1 } else { return ranges[mid].node }
        }
        return nil
    }

    var nodes: Set<String> { Set(ranges.map(\.node)) }
}

/// A `MOVED` or `ASK` redirection: the slot lives (for good, or for this command during a
/// migration) on another node; or `TRYAGAIN`: the slot is moving and the command's keys are on
/// both nodes for now, so it did not run and is sent again shortly.
enum RedisRedirect: Equatable {
    case moved(node: String)
    case ask(node: String)
    case tryAgain

    init?(_ reply: RedisReply) {
        guard case .error(let message) = reply else { return nil }
        let parts = message.split(separator: " ")
        if parts.first == "TRYAGAIN" {
            self = .tryAgain
            return
        }
        guard parts.count == 3 else { return nil }
        switch parts[0] {
        case "MOVED": self = .moved(node: String(parts[2]))
        case "ASK": self = .ask(node: String(parts[2]))
        default: return nil
        }
    }
}

/// The pool's connections to a Redis Cluster: per primary, `connections` of them over the event
/// loops, opened when a slot of that primary is first used, routed by the slot map, which a
/// `MOVED` reply refreshes. A call's commands are grouped by hash slot (the shop tags one deal's
/// keys alike); a command answered `MOVED` or `ASK` is sent again, alone, to the node named
/// (after `ASKING` for `ASK`), so a command that ran is never run twice.
final class RedisClusterConnections: Sendable {
    struct State: Sendable {
        var map: RedisSlotMap
        var nodes: [String: [RedisSlot]] = [:]
    }

    private let state: Mutex<State>
    private let seed: RedisEndpoint
    private let connections: Int
    private let timeout: TimeAmount
    private let next = Atomic<Int>(0)
    /// `MOVED`, `ASK` and `TRYAGAIN` replies followed so far.
    let redirects = Atomic<Int>(0)
    /// How many redirections one command may follow in a row before the call fails.
    static let maximumRedirects = 5
    /// How many `TRYAGAIN`s (20 ms apart) one command may meet while its slot moves.
    static let maximumWaits = 250

    init(map: RedisSlotMap, seed: RedisEndpoint, connections: Int, timeout: TimeAmount) {
        state = Mutex(State(map: map))
        self.seed = seed
        self.connections = max(1, connections)
        self.timeout = timeout
    }

    var map: RedisSlotMap { state.withLock { $0.map } }

    /// A connection to `node` (host:port), the caller's event loop's when it runs on one.
    func connection(to node: String) throws(RedisError) -> RedisSlot {
        let known = state.withLock { $0.nodes[node] }
        let slots: [RedisSlot]
        if let known {
            slots = known
        } else {
            // A node met for the first time: its address parsed once, its connections made.
            let colon = node.lastIndex(of: ":")
            guard let colon, let port = Int(node[node.index(after: colon)...]) else { throw RedisError(.protocolError, "a cluster node named \(node)") }
            let endpoint = seed.at(host: String(node[..<colon]), port: port)
            let group = MultiThreadedEventLoopGroup.singleton
            slots = state.withLock { s in
                if let slots = s.nodes[node] { return slots }
                let made = (0..<connections).map { _ in RedisSlot(eventLoop: group.next(), endpoint: endpoint, timeout: timeout) }
                s.nodes[node] = made
                return made
            }
        }
        return RedisPool.pick(slots, turn: next.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    /// The node serving `slot` (nil: any; the seed).
    func node(for slot: Int?) throws(RedisError) -> String {
        guard let slot else { return seed.description }
        guard let node = map.node(for: slot) else { throw RedisError(.server, "CLUSTERDOWN: no primary serves hash slot \(slot)") }
        return node
    }

    /// Reads the slot map again from a node that answers.
    func refresh() async throws {
        var lastError: (any Error)?
        for node in [seed.description] + map.nodes.sorted() {
            do {
                let reply = try await connection(to: node).submit([["CLUSTER", "SHARDS"]])[0]
                let map = try RedisSlotMap(shards: reply)
                state.withLock { $0.map = map }
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RedisError(.connect, "no cluster node answered CLUSTER SHARDS")
    }

    /// Sends `commands` to the primaries of their hash slots, as a cluster pipeline does: the
    /// commands of one slot in their order on one connection, the slots' batches at once, each
    /// reply in its command's place. A `MULTI … EXEC` must keep to one slot, and so must each
    /// command's own keys (a script's); otherwise the call is refused before anything is sent.
    /// With `wait`, every batch sent ends with its `WAIT` on the same connection and must be
    /// acknowledged by that many replicas (``RedisPool/ReplicaWait``).
    func submit(_ commands: [[String]], wait: RedisPool.ReplicaWait?) async throws -> [RedisReply] {
        var groups: [(slot: Int?, indices: [Int])] = []
        for (i, command) in commands.enumerated() {
            let slot = try RedisHashSlot.of([command])
            if let g = groups.firstIndex(where: { $0.slot == slot || slot == nil || $0.slot == nil }) {
                groups[g].indices.append(i)
                if groups[g].slot == nil { groups[g].slot = slot }
            } else {
                groups.append((slot, [i]))
            }
        }
        if groups.count > 1, commands.contains(where: { $0.first?.uppercased() == "MULTI" }) {
            _ = try RedisHashSlot.of(commands)  // throws, naming two keys of different slots
        }
        guard groups.count > 1 else { return try await submit(commands, slot: groups.first?.slot ?? nil, wait: wait) }
        var replies = [RedisReply](repeating: .null, count: commands.count)
        try await withThrowingTaskGroup(of: ([Int], [RedisReply]).self) { tasks in
            for group in groups {
                tasks.addTask { (group.indices, try await self.submit(group.indices.map { commands[$0] }, slot: group.slot, wait: wait)) }
            }
            for try await (indices, answers) in tasks { for (i, reply) in zip(indices, answers) { replies[i] = reply } }
        }
        return replies
    }

    /// `commands`, all of `slot` (nil: keyless), to its primary, following redirections command
    /// by command.
    private func submit(_ commands: [[String]], slot: Int?, wait: RedisPool.ReplicaWait?) async throws -> [RedisReply] {
        var replies = try await send(commands, to: try node(for: slot), wait: wait)
        for i in commands.indices {
            var hops = 0, waits = 0
            while let redirect = RedisRedirect(replies[i]), hops < Self.maximumRedirects, waits < Self.maximumWaits {
                redirects.add(1, ordering: .relaxed)
                switch redirect {
                case .tryAgain:
                    // Nothing ran: sent again to the slot's owner once more of its keys have moved;
                    // the redirections it meets again are the same move's.
                    waits += 1
                    hops = 0
                    try await Task.sleep(for: .milliseconds(20))
                    replies[i] = try await send([commands[i]], to: try node(for: slot), wait: wait)[0]
                case .moved(let node):
                    hops += 1
                    // Nodes can disagree for a moment as a slot changes hands: wait a little more
                    // before each further hop.
                    if hops > 1 { try await Task.sleep(for: .milliseconds(10 * (hops - 1))) }
                    try await refresh()
                    replies[i] = try await send([commands[i]], to: node, wait: wait)[0]
                case .ask(let node):
                    hops += 1
                    replies[i] = try await send([["ASKING"], commands[i]], to: node, wait: wait)[1]
                }
            }
        }
        return replies
    }

    private func send(_ commands: [[String]], to node: String, wait: RedisPool.ReplicaWait?) async throws -> [RedisReply] {
        try await RedisPool.acknowledged(commands, wait: wait) { try await self.connection(to: node).submit($0) }
    }
}
