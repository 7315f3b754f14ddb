public import Domain
public import Foundation
public import JWTKit
import LiveRuntime

/// Who sent a request, as its credentials prove: the buyer (`sub`) and whether it may run admin
/// mutations (the `admin` role).
public struct Caller: Sendable, Hashable {
    public var user: UserID
    public var isAdmin: Bool

    public init(user: UserID, isAdmin: Bool = false) {
        self.user = user
        self.isAdmin = isAdmin
    }
}

/// Credentials that do not prove who sent them: answered 401 with the reason (never which key
/// would have verified them).
public struct AuthenticationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) { self.description = description }
}

/// Reads a request's caller from `Authorization: Bearer <JWT>`: the signature checked against the
/// configured keys (HS256 with a shared secret, RS256/ES256 from a JWKS), `exp` required and in the
/// future, `nbf` respected, `aud` and `iss` checked when configured; `sub` is the buyer, a `roles`
/// claim holding `admin` grants admin. No token: an anonymous caller (public queries only). With no
/// key configured nobody is authenticated, so nobody is admin: there is no default admin.
///
/// `trustedHeader` takes the caller from a header a gateway in front has set after its own
/// authentication (`X-User-Id`), with admins named in the configuration: only for deployments that
/// put such a gateway in front, chosen explicitly (`auth.mode`).
public struct Authenticator: Sendable {
    enum Mode: Sendable {
        case tokens(Task<JWTKeyCollection, any Error>, audience: String?, issuer: String?)
        case trustedHeader(name: String, admins: Set<UserID>)
    }

    let mode: Mode
    /// Tokens already verified, with their callers, for at most a minute and never past their `exp`:
    /// a buyer sends the same token with every request, and verifying it again would decode two
    /// JSON objects and hash it each time.
    let verified = LocalCache<String, Verified>(ttl: .seconds(60), staleLimit: .zero, capacity: 100_000)

    struct Verified: Sendable {
        let caller: Caller
        let expires: Date
    }

    /// The role that grants admin mutations.
    public static let adminRole = "admin"
    /// The secret the embedded mode and `flashdeal token` use when none is configured: for the demo
    /// and tests, never for a shop on the backends.
    public static let developmentSecret = "flashdeal-development-secret-not-for-production"

    /// Tokens verified with the keys `load` adds to a collection (run once, on first use).
    init(audience: String? = nil, issuer: String? = nil, load: @escaping @Sendable (JWTKeyCollection) async throws -> Void) {
        mode = .tokens(Task {
            let keys = JWTKeyCollection()
            try await load(keys)
            return keys
        }, audience: audience, issuer: issuer)
    }

    /// The caller a gateway in front names in `header`; `admins` may run admin mutations.
    public static func trustedHeader(_ header: String = "X-User-Id", admins: Set<UserID>) -> Authenticator {
        Authenticator(mode: .trustedHeader(name: header, admins: admins))
    }

    private init(mode: Mode) { self.mode = mode }

    /// HS256 tokens signed with `secret`; RS256, ES256 (and the other algorithms of JWKS keys) with
    /// the keys of `jwks` (a JWKS document's JSON, checked here: a JWKS that does not load is an
    /// error at start-up, not at the first request).
    public static func tokens(secret: String?, jwks: String?, audience: String? = nil, issuer: String? = nil) throws -> Authenticator {
        if let jwks { _ = try JSONDecoder().decode(JWKS.self, from: Data(jwks.utf8)) }
        return Authenticator(audience: audience, issuer: issuer) { keys in
            if let secret { await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
            if let jwks { try await keys.add(jwksJSON: jwks) }
        }
    }

    /// The development authenticator: HS256 with ``developmentSecret``.
    public static let development = Authenticator { keys in await keys.add(hmac: HMACKey(from: developmentSecret), digestAlgorithm: .sha256) }

    /// The header trusted-header mode reads, nil otherwise.
    public var trustedHeaderName: String? {
        if case .trustedHeader(let name, _) = mode { return name }
        return nil
    }

    /// The caller of a request with this `Authorization` header (and, in trusted-header mode, this
    /// value of the trusted header); nil for an anonymous one.
    public func caller(authorization: String?, trusted: String? = nil) async throws(AuthenticationError) -> Caller? {
        switch mode {
        case .trustedHeader(let name, let admins):
            guard let trusted, !trusted.isEmpty else { return nil }
            guard let user = try? UserID(validating: trusted) else { throw AuthenticationError("\(name) is not a user id") }
            return Caller(user: user, isAdmin: admins.contains(user))
        case .tokens(let loading, let audience, let issuer):
            guard let authorization, !authorization.isEmpty else { return nil }
            guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
                throw AuthenticationError("Authorization must be a Bearer token")
            }
            let token = String(authorization.dropFirst(7))
            if let known = verified.lookup(token).value, known.expires > Date() { return known.caller }
            let claims: ShopClaims
            do {
                claims = try await loading.value.verify(token, as: ShopClaims.self)
            } catch let error as JWTError {
                throw AuthenticationError("the token is not valid: \(Self.reason(error))")
            } catch {
                throw AuthenticationError("the token is not valid")
            }
            if let audience {
                do { try claims.aud?.verifyIntendedAudience(includes: audience) } catch { throw AuthenticationError("the token is for another audience") }
                guard claims.aud != nil else { throw AuthenticationError("the token names no audience") }
            }
            if let issuer, claims.iss?.value != issuer { throw AuthenticationError("the token is from another issuer") }
            guard let user = try? UserID(validating: claims.sub.value) else { throw AuthenticationError("the token's subject is not a user id") }
            let caller = Caller(user: user, isAdmin: claims.roles?.contains(Self.adminRole) ?? false)
            verified.store(Verified(caller: caller, expires: claims.exp.value), for: token)
            return caller
        }
    }

    /// What a client may be told about a rejected token: the kind of failure, not the library's text.
    static func reason(_ error: JWTError) -> String {
        switch error.errorType {
        case .claimVerificationFailure: "a claim does not hold (expired or not yet valid)"
        case .signatureVerificationFailed: "its signature does not verify"
        case .missingKIDHeader, .unknownKID: "it names no key this server has"
        case .malformedToken: "it is malformed"
        default: "it does not verify"
        }
    }

    /// A token for `user` signed with `secret` (HS256), valid for `ttl`: what `flashdeal token`
    /// prints for development, k6 and tests.
    public static func token(user: UserID, admin: Bool = false, ttl: Duration = .seconds(3600), secret: String = developmentSecret, audience: String? = nil, now: Date = Date()) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        let claims = ShopClaims(
            sub: SubjectClaim(value: user.rawValue), exp: ExpirationClaim(value: now.addingTimeInterval(seconds)),
            nbf: nil, aud: audience.map { AudienceClaim(value: [$0]) }, iss: nil, roles: admin ? [adminRole] : nil)
        return try await keys.sign(claims)
    }
}

extension Authenticator {
    /// `Bearer <token>` for `user`, a development token (signed with ``developmentSecret``): the
    /// `Authorization` value tests and tools send to a server that verifies with it.
    public static func bearer(_ user: String, admin: Bool = false) async throws -> String {
        "Bearer " + (try await token(user: try UserID(validating: user), admin: admin))
    }
}

/// The claims a shop token carries.
struct ShopClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var aud: AudienceClaim?
    var iss: IssuerClaim?
    var roles: [String]?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}
