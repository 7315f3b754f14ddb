public import Tracing

/// W3C trace context as plain fields (`traceparent`, `tracestate`): what an outbox entry and a
/// Kafka message carry beside the event, so one order's trace runs from its request through the
/// relay to the writer. Which fields and their format are the bootstrapped instrument's (the
/// OpenTelemetry tracer's W3C propagator); with none bootstrapped (tracing off, the default) there
/// are no fields and nothing is written.
public enum TraceContext {
    /// The field an outbox entry keeps the W3C `traceparent` in (`tp`, short: one per entry).
    public static let entryField = "tp"

    /// False inside work whose trace the sampler dropped (a request's operation span that does not
    /// record): its backend calls then start no span and write no trace context, so a 1% sample
    /// costs the other 99% of requests two spans, not one per backend call and message.
    @TaskLocal public static var sampled = true

    /// The current task's context as fields; empty when nothing is traced.
    public static func fields(_ context: InstrumentationContext? = .current) -> [String: String] {
        guard let context else { return [:] }
        var fields: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &fields, using: FieldsInjector())
        return fields
    }

    /// The current task's `traceparent`, or "" when nothing is traced (the gate script's argument).
    public static func traceParent(_ context: InstrumentationContext?) -> String {
        fields(context)["traceparent"] ?? ""
    }

    /// The context `fields` carry (a fresh top-level one when they carry none).
    public static func context(_ fields: [String: String]) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        if !fields.isEmpty { InstrumentationSystem.instrument.extract(fields, into: &context, using: FieldsExtractor()) }
        return context
    }

    /// The context an outbox entry's `tp` field carries, if it has one.
    public static func context(traceParent: String?) -> InstrumentationContext? {
        guard let traceParent, !traceParent.isEmpty else { return nil }
        return context(["traceparent": traceParent])
    }
}

struct FieldsInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct FieldsExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Runs `body` in a span `name` of `kind` when the task is inside sampled traced work (a request,
/// a traced message), else with no span: a backend call made in the background (a sweep, a
/// readiness probe, the relay's catalogue read) starts no trace of its own. A body that throws
/// marks the span an error, with the error's type (`error.type`).
public func withChildSpan<T>(
    _ name: @autoclosure () -> String, ofKind kind: SpanKind, isolation: isolated (any Actor)? = #isolation,
    _ body: ((any Span)?) async throws -> T
) async throws -> T {
    guard TraceContext.sampled, let parent = InstrumentationContext.current else { return try await body(nil) }
    return try await withSpan(name(), context: parent, ofKind: kind, isolation: isolation) { span in
        do { return try await body(span) } catch {
            span.attributes["error.type"] = String(describing: type(of: error))
            span.setStatus(.init(code: .error))
            throw error
        }
    }
}
