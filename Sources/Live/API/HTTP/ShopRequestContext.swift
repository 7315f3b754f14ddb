public import Hummingbird
public import NIOCore

/// The request context of the shop's routes: Hummingbird's, plus the peer's address (the client's,
/// unless a proxy in front names it in `rateLimits.clientAddressHeader`).
public struct ShopRequestContext: Hummingbird.RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
