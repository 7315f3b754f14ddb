import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import LiveAPI
import LiveRuntime
public import Logging

extension ShopServer {
    /// The authenticator the configuration names: a trusted gateway's header, or bearer tokens
    /// verified with `auth.secret` and `auth.jwks` (read now: a JWKS that cannot be read or parsed
    /// stops the start-up). The embedded mode with neither signs and verifies with the development
    /// secret; the backends mode refuses that secret, and with no key at all runs with every caller
    /// anonymous, and says so.
    public static func authenticator(_ configuration: Configuration, logger: Logger) async throws -> Authenticator {
        let auth = configuration.auth
        if auth.mode == .trustedHeader {
            logger.warning("auth.mode trusted-header: the caller is whoever \(auth.trustedHeader) names; only behind a gateway that sets it")
            return .trustedHeader(auth.trustedHeader, admins: auth.trustedAdmins)
        }
        var secret = auth.secret
        var jwks: String?
        if let location = auth.jwks { jwks = try await readJWKS(location) }
        if configuration.mode == .backends, secret == Authenticator.developmentSecret {
            throw StartupError("auth.secret is the development secret, which anyone can read: set a secret of your own, or auth.jwks")
        }
        if secret == nil, jwks == nil {
            if configuration.mode == .embedded {
                secret = Authenticator.developmentSecret
                logger.info("auth: tokens signed with the development secret (`flashdeal token --user U` prints one)")
            } else {
                logger.warning("auth: no auth.secret or auth.jwks: every caller is anonymous, so nobody can order and nobody is admin")
            }
        }
        do {
            return try Authenticator.tokens(secret: secret, jwks: jwks, audience: auth.audience, issuer: auth.issuer)
        } catch {
            throw StartupError("auth.jwks is not a JWKS: \(error)")
        }
    }

    /// The waiting rooms' ticket signer: `auth.ticketSecret`, else `auth.secret`, else the
    /// development secret in the embedded mode; on the backends with neither, a random secret of
    /// this process (a warning: its tickets are good on this replica only).
    static func admissionTickets(_ configuration: Configuration, logger: Logger) -> AdmissionTickets {
        let auth = configuration.auth
        if let secret = auth.ticketSecret ?? auth.secret { return AdmissionTickets(secret: secret) }
        if configuration.mode == .embedded { return AdmissionTickets(secret: Authenticator.developmentSecret) }
        logger.warning("auth: no auth.ticketSecret or auth.secret: waiting rooms sign admission tickets with a secret of this process, good on this replica only")
        return AdmissionTickets(secret: (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined())
    }

    /// A JWKS document from a file or an http(s) URL.
    static func readJWKS(_ location: String) async throws -> String {
        guard location.hasPrefix("http://") || location.hasPrefix("https://") else {
            guard let data = FileManager.default.contents(atPath: location) else { throw StartupError("auth.jwks: cannot read \(location)") }
            return String(decoding: data, as: UTF8.self)
        }
        guard let url = URL(string: location) else { throw StartupError("auth.jwks: \(Redacted.uri(location)) is not a URL") }
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(from: url) } catch {
            throw StartupError("auth.jwks: \(Redacted.uri(location)) does not answer: \(error.localizedDescription)")
        }
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw StartupError("auth.jwks: \(Redacted.uri(location)) did not answer 200") }
        return String(decoding: data, as: UTF8.self)
    }
}
