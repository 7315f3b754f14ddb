public import Hummingbird
public import NIOCore
import Synchronization

/// The request context of the shop's routes: Hummingbird's, plus the peer's address (the client's,
/// unless a proxy in front names it in `rateLimits.clientAddressHeader`).
public struct ShopRequestContext: Hummingbird.RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// When the request's head arrived, before any middleware: a GraphQL operation's duration on
    /// `/metrics` counts from here, admission's wait included.
    public let arrivedAt: ContinuousClock.Instant
    /// What the handler learnt for the access log (the operation, its outcome).
    public let notes = RequestNotes()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        arrivedAt = .now
    }
}

/// What a request's handler and resolvers learn that its access-log line reports: the GraphQL
/// operation's label and the business outcome it decided. Shared by reference: the middleware
/// reads what the handler, further in, wrote.
public final class RequestNotes: Sendable {
    private let state = Mutex<(operation: String?, outcome: String?)>((nil, nil))

    public init() {}

    public var operation: String? {
        get { state.withLock { $0.operation } }
        set { state.withLock { $0.operation = newValue } }
    }

    public var outcome: String? {
        get { state.withLock { $0.outcome } }
        set { state.withLock { $0.outcome = newValue } }
    }
}
