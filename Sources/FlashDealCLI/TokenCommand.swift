import ArgumentParser
import Domain
import Foundation
import Live
import LiveAPI

/// `flashdeal token`: a bearer token for development, k6 and tests, signed (HS256) with the
/// configured `auth.secret`, or the development secret the embedded mode verifies with when none is.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Print a bearer token (HS256, the configured auth.secret or the development one).")

    @Option(help: "The buyer: the token's subject.") var user: String
    @Flag(help: "Grant the admin role.") var admin = false
    @Option(help: "How long it is valid, such as 15m or 24h.") var ttl = "1h"
    @OptionGroup var backends: BackendOptions
    @Argument(parsing: .allUnrecognized, help: "Any setting, as --name VALUE (auth.secret, auth.audience).") var settings: [String] = []

    func run() async throws {
        let configuration = try backends.configuration(settings: settings)
        let subject: UserID
        do { subject = try UserID(validating: user, field: "--user") } catch { throw ValidationError("\(error)") }
        guard let lifetime = ConfigurationKey.duration(ttl), lifetime > .zero else { throw ValidationError("--ttl must be a duration such as 15m or 24h, found \(ttl)") }
        print(try await Authenticator.token(
            user: subject, admin: admin, ttl: lifetime, secret: configuration.auth.secret ?? Authenticator.developmentSecret,
            audience: configuration.auth.audience))
    }
}
