import Foundation
import LiveRuntime
public import Logging
import OTel
public import ServiceLifecycle
import Tracing

extension ShopServer {
    /// Whether the standard OpenTelemetry environment asks for traces: an OTLP endpoint is named
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or an exporter is
    /// chosen (`OTEL_TRACES_EXPORTER` other than `none`), and the SDK is not disabled
    /// (`OTEL_SDK_DISABLED`). Nothing set, the default: no tracing, no cost.
    public static func tracingRequested(_ environment: [String: String]) -> Bool {
        guard environment["OTEL_SDK_DISABLED"]?.lowercased() != "true" else { return false }
        if let exporter = environment["OTEL_TRACES_EXPORTER"], !exporter.isEmpty { return exporter.lowercased() != "none" }
        return ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains { !(environment[$0] ?? "").isEmpty }
    }

    /// Bootstraps the process's tracer from the standard OpenTelemetry environment (endpoint,
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `http/json`: this build has
    /// no gRPC exporter), `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, `OTEL_SERVICE_NAME`
    /// (default `flashdeal`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`) and returns the Service
    /// that exports its spans in batches (run it first: it stops last, flushing what is left).
    /// Only traces: metrics stay on `/metrics` and logs on standard error. nil when the
    /// environment does not ask for traces. A setting the SDK refuses is an error naming it.
    public static func tracing(_ environment: [String: String], role: String, logger: Logger) throws -> (any Service)? {
        guard tracingRequested(environment) else { return nil }
        if environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", default: environment["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? ""].lowercased() == "grpc" {
            throw StartupError("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: this build exports OTLP over HTTP only (http/protobuf or http/json)")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "flashdeal"
        configuration.resourceAttributes["flashdeal.role"] = role
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        do {
            let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(tracer)
            logger.info("tracing: spans exported over OTLP", metadata: [
                "flashdeal.otel.endpoint": "\(environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "default")",
                "flashdeal.otel.sampler": "\(environment["OTEL_TRACES_SAMPLER"] ?? "parentbased_always_on")\(environment["OTEL_TRACES_SAMPLER_ARG"].map { " \($0)" } ?? "")",
            ])
            return service
        } catch {
            throw StartupError("the OpenTelemetry environment (OTEL_*) does not make a tracer: \(error)")
        }
    }
}
