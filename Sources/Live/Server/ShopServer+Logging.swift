public import Logging
import OTel

extension ShopServer {
    /// Makes every logger of the process write as `log` says: JSON lines (``JSONLogHandler``) or
    /// swift-log's text, from `log.level` up, with the current span's `trace_id` and `span_id`
    /// under tracing (swift-otel's metadata provider; nothing without a span). Once per process,
    /// before any logger is made.
    public static func bootstrapLogging(_ log: Configuration.Log) {
        let provider = OTel.makeLoggingMetadataProvider()
        switch log.format {
        case .json:
            LoggingSystem.bootstrap({ label, provider in JSONLogHandler(label: label, level: log.level, metadataProvider: provider) }, metadataProvider: provider)
        case .text:
            LoggingSystem.bootstrap({ label, provider in
                var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                handler.logLevel = log.level
                return handler
            }, metadataProvider: provider)
        }
    }
}
