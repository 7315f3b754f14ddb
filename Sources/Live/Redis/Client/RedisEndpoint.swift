import Foundation
import LiveRuntime

/// Where a Redis is and how to log in: `redis://[[user]:password@]host[:port][/0]`. With a password
/// every new connection, pooled or the broadcast's, sends `AUTH` first (`AUTH user password` with
/// a user, Redis 6 ACLs). Only database 0 is served: the shop namespaces its keys by prefix
/// instead, as Redis Cluster requires.
struct RedisEndpoint: Sendable, Hashable {
    private(set) var host: String
    private(set) var port: Int
    /// The `AUTH` command, nil without a password.
    let login: [String]?

    init(url: String) throws(RedisError) {
        let expected = RedisError(.connect, "expected a URL like redis://[:password@]127.0.0.1:6379, found \"\(Redacted.uri(url))\"")
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else { throw expected }
        guard ["", "/", "/0"].contains(components.path) else {
            throw RedisError(.connect, "only database 0 is served (keys are namespaced by redis.keyPrefix); found \"\(Redacted.uri(url))\"")
        }
        self.host = host
        port = components.port ?? 6379
        let user = components.user?.removingPercentEncoding ?? components.user
        login = components.password.map { password in
            let password = password.removingPercentEncoding ?? password
            return user.map { $0.isEmpty ? ["AUTH", password] : ["AUTH", $0, password] } ?? ["AUTH", password]
        }
    }

    /// The same credentials at another address (a cluster's other nodes).
    func at(host: String, port: Int) -> RedisEndpoint {
        var other = self
        other.host = host
        other.port = port
        return other
    }

    var description: String { "\(host):\(port)" }

    /// The error a refused `AUTH` reply is.
    static func refused(_ message: String, at endpoint: String) -> RedisError {
        RedisError(.connect, "Redis at \(endpoint) refused the credentials: \(message)")
    }
}
