import NIOCore
import NIOPosix

extension ShopServer {
    /// Makes Swift concurrency's global executor NIO's event loops (the ones Hummingbird serves
    /// on), so a request's handler runs on the thread that read it and answers on it, without the
    /// two thread switches per request (and two per backend round trip) between NIO's threads and
    /// the cooperative pool. Call it first thing in the process, from the main thread, once
    /// (`flashdeal serve` does, unless FLASHDEAL_EVENT_LOOP_EXECUTOR=0). Blocking C calls never run
    /// on it: hiredis, libmongoc and librdkafka's polls run on their own dispatch queues.
    /// Returns whether it took over.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
