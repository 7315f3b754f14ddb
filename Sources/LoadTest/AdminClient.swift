import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// GraphQL calls to a live server as an admin (`Authorization` carries an admin's bearer token):
/// what `flashdeal loadtest` seeds deals with and `flashdeal calibrate` sets its phases up with.
struct AdminClient: Sendable {
    var target: String
    var authorization: String

    func mutation(_ query: String, _ variables: [String: Any], expect: String) async throws {
        let data = try await post(query, variables)
        let result = data.values.first as? [String: Any]
        guard result?["__typename"] as? String == expect else {
            throw LoadTestError("seeding \(target): \(query.prefix(60))… answered \(data)")
        }
    }

    func post(_ query: String, _ variables: [String: Any]) async throws -> [String: Any] {
        guard let url = URL(string: "\(target)/graphql") else { throw LoadTestError("--target \(target) is not a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let body: Data
        do {
            (body, _) = try await URLSession.shared.data(for: request)
        } catch {
            throw LoadTestError("the server at \(target) does not answer: \(error)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw LoadTestError("\(target)/graphql answered something that is not JSON")
        }
        if let errors = json["errors"] { throw LoadTestError("\(target)/graphql: \(errors)") }
        return json["data"] as? [String: Any] ?? [:]
    }
}
