// swift-tools-version: 6.1
import PackageDescription

/// One set of Swift settings for every target: Swift 6 language mode plus the upcoming
/// features we rely on.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Where scripts/bootstrap.sh puts the librdkafka 2.16 alias (an absolute path, for -rpath).
let rdkafkaDirectory = Context.packageDirectory + "/.venv/flashdeal"

let package = Package(
    name: "FlashDeal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flashdeal", targets: ["FlashDealCLI"]),
        .executable(name: "simbench", targets: ["SimBench"]),
        .library(name: "Domain", targets: ["Domain"]),
        .library(name: "DomainMemory", targets: ["DomainMemory"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/GraphQLSwift/Graphiti", from: "3.1.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        // OTLP over HTTP only: the gRPC trait would add grpc-swift and its HTTP/2 stack.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.0.0", traits: ["OTLPHTTP"]),
        // YAML, for reading a rendered k8s/ overlay (plan-scaling).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Pure model: aggregates, events, ports, use cases. Standard library only.
        .target(name: "Domain", swiftSettings: swiftSettings),
        // In-memory actors for every port, a manual clock and fixtures.
        .target(name: "DomainMemory", dependencies: ["Domain"], swiftSettings: swiftSettings),
        // The discrete-event simulator: engine, flash-sale model, scenarios, reports.
        .target(
            name: "Sim",
            dependencies: ["Domain", .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: swiftSettings + [
                // The calendar's buffers are class-owned and never shared; without dynamic
                // exclusivity checks on them the engine runs about twice as fast in release builds.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        // `make bench`: the engine against SimPy, the 100k-rps spike, and the request path's JSON.
        .executableTarget(name: "SimBench", dependencies: ["Sim", "Domain", "LiveRuntime"], swiftSettings: swiftSettings),
        // hiredis, the Redis client library (Debian's libhiredis-dev).
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // libmongoc and libbson (Debian's libmongoc-dev).
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        // librdkafka 2.16 from the confluent-kafka wheel, with Debian's headers (see shim.h).
        .systemLibrary(name: "CRdKafka"),
        // The live server, one target per part (docs/architecture.md draws the graph). What every
        // live target runs on: the wall clock and random ids, the bounded pools for blocking C
        // calls, the in-process cache and the change feed subscriptions read.
        .target(
            name: "LiveRuntime",
            dependencies: [
                "Domain", .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Live/Runtime",
            swiftSettings: swiftSettings
        ),
        // The API: HTTP and WebSocket (Hummingbird), GraphQL (Graphiti), admission. The Domain's
        // ports only: no C library, no backend.
        .target(
            name: "LiveAPI",
            dependencies: [
                "Domain", "LiveRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Graphiti", package: "Graphiti"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Live/API",
            swiftSettings: swiftSettings
        ),
        // Redis (hiredis and a NIO client): the stock gate, hot orders and payments, idempotency,
        // the outbox and its relay, the catalogue cache, the subscriptions' broadcast.
        .target(
            name: "LiveRedis",
            dependencies: [
                "Domain", "LiveRuntime", "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Live/Redis",
            swiftSettings: swiftSettings
        ),
        // Kafka (librdkafka): the producer, the writer's consumer and its Service.
        .target(
            name: "LiveKafka",
            dependencies: [
                "Domain", "LiveRuntime", "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Live/Kafka",
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-L\(rdkafkaDirectory)", "-Xlinker", "-rpath", "-Xlinker", rdkafkaDirectory])]
        ),
        // MongoDB (libmongoc): the catalogue, durable orders and payments, the event store.
        .target(name: "LiveMongo", dependencies: ["Domain", "LiveRuntime", "CMongoC", .product(name: "Tracing", package: "swift-distributed-tracing")], path: "Sources/Live/Mongo", swiftSettings: swiftSettings),
        // The storefront and the operator console: static HTML, CSS and ES modules, served by `serve`.
        .target(
            name: "LiveWeb",
            dependencies: ["Domain", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Sources/Live/Web",
            resources: [.copy("Public")],
            swiftSettings: swiftSettings
        ),
        // Composition: builds the server from its configuration, in the embedded mode or on the backends.
        .target(
            name: "Live",
            dependencies: [
                "Domain", "DomainMemory", "LiveRuntime", "LiveAPI", "LiveRedis", "LiveKafka", "LiveMongo", "LiveWeb",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Live/Server",
            swiftSettings: swiftSettings
        ),
        // Operator tooling: calibration, read-model replay, the sale audit.
        .target(
            name: "LiveTools",
            dependencies: ["Domain", "LiveRuntime", "LiveAPI", "LiveRedis", "LiveKafka", "LiveMongo"],
            path: "Sources/Live/Tools",
            swiftSettings: swiftSettings
        ),
        // The SQLite results store (GRDB on the system libsqlite3).
        .target(
            name: "ResultsStore",
            dependencies: ["Sim", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // k6 plans from scenario files, k6 results in the simulator's shape, predicted against measured.
        .target(
            name: "LoadTest",
            dependencies: ["Sim", .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: swiftSettings
        ),
        // The simulator's view of a rendered k8s/ overlay: the API's HorizontalPodAutoscaler and
        // its pods' CPU request as a scenario's `autoscaling` and `http` (plan-scaling).
        .target(
            name: "KubernetesPlan",
            dependencies: ["Sim", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // `flashdeal`: wiring only.
        .executableTarget(
            name: "FlashDealCLI",
            dependencies: [
                "Domain",
                "DomainMemory",
                "Sim",
                "ResultsStore",
                "Live",
                "LiveAPI",
                "LiveRuntime",
                "LiveRedis",
                "LiveKafka",
                "LiveMongo",
                "LiveTools",
                "LoadTest",
                "KubernetesPlan",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "DomainMemory"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Live", "LiveAPI", "LiveRuntime", "LiveRedis", "LiveKafka", "LiveMongo", "LiveTools",
                "Domain", "DomainMemory", "LoadTest", "ResultsStore", "Sim",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The API's tests: the in-memory adapters, no C library linked.
        .testTarget(
            name: "LiveTests",
            dependencies: [
                "LiveAPI", "LiveRuntime", "LiveWeb", "Domain", "DomainMemory", .product(name: "Logging", package: "swift-log"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SimTests", dependencies: ["Sim", "Domain", "ResultsStore", "KubernetesPlan"], swiftSettings: swiftSettings),
        .testTarget(name: "LoadTestTests", dependencies: ["LoadTest", "Sim"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    ]
)
