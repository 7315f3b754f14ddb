public import Hummingbird
public import NIOCore

/// The request context of the shop's routes: Hummingbird's, plus the peer's address (the client's,
/// unless a proxy in front names it in `rateLimits.clientAddressHeader`).
public struct ShopRequestContext: Hummingbird.RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// When the request's head arrived, before any middleware: a GraphQL operation's duration on
    /// `/metrics` counts from here, admission's wait included.
    public let arrivedAt: ContinuousClock.Instant

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        arrivedAt = .now
    }
}
