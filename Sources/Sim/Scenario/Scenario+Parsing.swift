import Domain
public import Foundation

extension Scenario {
    /// Reads and validates a scenario file. Relative paths inside it (empirical histograms,
    /// includes) are resolved against the file's folder.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ScenarioError(path: "$", message: "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(data, directory: url.deletingLastPathComponent().path)
    }

    /// Reads and validates a scenario from JSON.
    public static func parse(_ data: Data, directory: String = ".") throws(ScenarioError) -> Scenario {
        var merged = try JSONReader.parse(data)
        // `include`: files whose keys are defaults under this file's own (calibration results).
        if let includes = try merged.stringArray("include") {
            merged = JSONReader(try resolving(includes, under: merged.object, directory: directory), path: "$")
        }
        var r = merged
        let scenario = try read(&r, directory: directory)
        try r.finish()
        return scenario
    }

    /// `own` (a scenario document) with the files `includes` names merged under it, in order,
    /// and its `include` key gone.
    static func resolving(_ includes: [String], under own: [String: Any], directory: String) throws(ScenarioError) -> [String: Any] {
        var base: [String: Any] = [:]
        for (i, include) in includes.enumerated() {
            let file = include.hasPrefix("/") ? include : "\(directory)/\(include)"
            guard let included = try? Data(contentsOf: URL(fileURLWithPath: file)),
                let object = try? JSONSerialization.jsonObject(with: included) as? [String: Any]
            else { throw ScenarioError(path: "$.include[\(i)]", message: "cannot read a JSON object from \(file)") }
            base = deepMerge(base, object)
        }
        var own = own
        own.removeValue(forKey: "include")
        return deepMerge(base, own)
    }

    static func deepMerge(_ base: [String: Any], _ top: [String: Any]) -> [String: Any] {
        var result = base
        for (key, value) in top {
            if let inner = value as? [String: Any], let under = result[key] as? [String: Any] {
                result[key] = deepMerge(under, inner)
            } else {
                result[key] = value
            }
        }
        return result
    }

    static func read(_ r: inout JSONReader, directory: String) throws(ScenarioError) -> Scenario {
        let name = try r.string("name")
        let description = try r.string("description", default: "")
        let seed = UInt64(try r.int("seed", default: 1, in: 0...Int(Int64.max)))
        let horizon = seconds(try r.double("horizonSeconds", default: 3600, in: 1...86_400))
        guard let traffic = try r.object("traffic", { (t: inout JSONReader) throws(ScenarioError) in try readTraffic(&t, directory: directory) }) else {
            throw ScenarioError(path: "$.traffic", message: "is required")
        }
        guard let deals = try r.objects("deals", { (d: inout JSONReader) throws(ScenarioError) in try readDeal(&d) }), !deals.isEmpty else {
            throw ScenarioError(path: "$.deals", message: "is required: at least one deal")
        }
        if Set(deals.map(\.id)).count != deals.count { throw ScenarioError(path: "$.deals", message: "deal ids must be unique") }
        let http = try r.object("http") { (h: inout JSONReader) throws(ScenarioError) in try readHTTP(&h, directory: directory) } ?? readHTTPDefaults()
        let network = try r.object("network") { (n: inout JSONReader) throws(ScenarioError) in
            Network(
                clientRTT: try n.distribution("clientRtt", directory: directory, default: .constantMs(1)),
                backendRTT: try n.distribution("backendRtt", directory: directory, default: .constantMs(0.2)))
        } ?? Network(clientRTT: .constantMs(1), backendRTT: .constantMs(0.2))
        let redis = try r.object("redis") { (x: inout JSONReader) throws(ScenarioError) in
            RedisTier(
                gateService: try x.distribution("gateService", directory: directory, default: .constantMs(0.04)),
                readService: try x.distribution("readService", directory: directory, default: .constantMs(0.01)),
                poolSizePerReplica: try x.int("poolSizePerReplica", default: 16, in: 1...10_000),
                pipeline: try x.int("pipeline", default: 2, in: 1...1000),
                cacheHitRatio: try x.double("cacheHitRatio", default: 0.98, in: 0...1))
        } ?? RedisTier(gateService: .constantMs(0.04), readService: .constantMs(0.01), poolSizePerReplica: 16, pipeline: 2, cacheHitRatio: 0.98)
        let kafka = try r.object("kafka") { (k: inout JSONReader) throws(ScenarioError) in try readKafka(&k, directory: directory) } ?? readKafkaDefaults()
        let mongo = try r.object("mongo") { (m: inout JSONReader) throws(ScenarioError) in
            MongoTier(
                read: try m.distribution("read", directory: directory, default: .constantMs(1)),
                batchBase: try m.distribution("batchBase", directory: directory, default: .constantMs(2)),
                perDocument: try m.double("perDocumentMs", default: 0.15, in: 0...10_000) * 1e6,
                poolSize: try m.int("poolSize", default: 10, in: 1...10_000))
        } ?? MongoTier(read: .constantMs(1), batchBase: .constantMs(2), perDocument: 0.15e6, poolSize: 10)
        let payment = try r.object("payment") { (p: inout JSONReader) throws(ScenarioError) in
            PaymentProvider(
                latency: try p.distribution("latency", directory: directory, default: .constantMs(50)),
                declineRate: try p.double("declineRate", default: 0, in: 0...1))
        } ?? PaymentProvider(latency: .constantMs(50), declineRate: 0)
        let autoscaling = try r.object("autoscaling") { (a: inout JSONReader) throws(ScenarioError) in try readAutoscaling(&a, replicas: http.replicas) }
        let sweeper = seconds(try r.double("sweeperIntervalSeconds", default: 1, in: 0.001...3600))
        let faults = try r.objects("faults") { (f: inout JSONReader) throws(ScenarioError) -> Fault in
            let name = try f.string("component", oneOf: Fault.Component.allCases.map(\.rawValue))
            guard let component = Fault.Component(rawValue: name) else { throw ScenarioError(path: "\(f.path).component", message: "unknown: \(name)") }
            return Fault(
                component: component,
                start: seconds(try f.double("atSeconds", in: 0...86_400)), duration: seconds(try f.double("durationSeconds", in: 0.001...86_400)))
        } ?? []
        var scenario = Scenario(
            name: name, description: description, seed: seed, horizon: horizon, traffic: traffic, deals: deals, http: http,
            network: network, redis: redis, kafka: kafka, mongo: mongo, payment: payment, autoscaling: autoscaling,
            sweeperInterval: sweeper, canonicalJSON: canonical(r.object))
        scenario.faults = faults
        return scenario
    }

    static func seconds(_ s: Double) -> Int64 { Int64((s * 1e9).rounded()) }
    static func millis(_ ms: Double) -> Int64 { Int64((ms * 1e6).rounded()) }

    static func readTraffic(_ t: inout JSONReader, directory: String) throws(ScenarioError) -> Traffic {
        let process = try t.string("arrivalProcess", default: "poisson", oneOf: ["poisson", "evenlySpaced"])
        let startRate = try t.double("startRate", default: 0, in: 0...10_000_000)
        guard let stages = try t.objects("stages", { (s: inout JSONReader) throws(ScenarioError) in
            Stage(duration: seconds(try s.double("durationSeconds", in: 0.001...86_400)), target: try s.double("target", in: 0...10_000_000))
        }), !stages.isEmpty else { throw ScenarioError(path: "\(t.path).stages", message: "is required: at least one stage") }
        let users = try t.int("users", default: 100_000, in: 1...100_000_000)
        let journey = try t.object("journey") { (j: inout JSONReader) throws(ScenarioError) in
            Journey(
                browseProbability: try j.double("browseProbability", default: 0.3, in: 0...1),
                viewProbability: try j.double("viewProbability", default: 1, in: 0...1),
                orderProbability: try j.double("orderProbability", default: 0.5, in: 0...1),
                quantity: try j.int("quantity", default: 1, in: 1...1000),
                payProbability: try j.double("payProbability", default: 0.8, in: 0...1),
                cancelProbability: try j.double("cancelProbability", default: 0.02, in: 0...1),
                polls: try j.int("polls", default: 1, in: 0...100),
                thinkTime: try j.distribution("thinkTime", directory: directory, default: .exponentialMs(1000)))
        } ?? Journey(browseProbability: 0.3, viewProbability: 1, orderProbability: 0.5, quantity: 1, payProbability: 0.8, cancelProbability: 0.02, polls: 1, thinkTime: .exponentialMs(1000))
        let client = try t.object("client") { (c: inout JSONReader) throws(ScenarioError) in
            Client(
                timeout: millis(try c.double("timeoutMs", default: 5000, in: 1...3_600_000)),
                maxRetries: try c.int("maxRetries", default: 0, in: 0...100),
                retryProbability: try c.double("retryProbability", default: 1, in: 0...1),
                retryBackoff: try c.distribution("retryBackoff", directory: directory, default: .constantMs(100)))
        } ?? Client(timeout: 5_000_000_000, maxRetries: 0, retryProbability: 1, retryBackoff: .constantMs(100))
        return Traffic(process: process == "poisson" ? .poisson : .evenlySpaced, startRate: startRate, stages: stages, users: users, journey: journey, client: client)
    }

    static func readDeal(_ d: inout JSONReader) throws(ScenarioError) -> DealSpec {
        let id = try d.string("id")
        do { _ = try Domain.DealID(validating: id) } catch {
            throw ScenarioError(path: "\(d.path).id", message: "\(error.reason)")
        }
        let startsAt = seconds(try d.double("startsAtSeconds", default: 0, in: 0...86_400))
        let endsAt = seconds(try d.double("endsAtSeconds", default: 86_400, in: 0.001...172_800))
        guard endsAt > startsAt else { throw ScenarioError(path: "\(d.path).endsAtSeconds", message: "must be after startsAtSeconds") }
        let ttl = seconds(try d.double("reservationTtlSeconds", default: 300, in: 0.001...86_400))
        let window = seconds(try d.double("paymentWindowSeconds", default: 240, in: 0.001...86_400))
        guard window <= ttl else { throw ScenarioError(path: "\(d.path).paymentWindowSeconds", message: "must be at most reservationTtlSeconds") }
        return DealSpec(
            id: id, stock: try d.int("stock", in: 0...Int(Int32.max)), perUserLimit: try d.int("perUserLimit", default: 1, in: 1...1000),
            price: Int64(try d.int("price", default: 10_000, in: 0...1_000_000_000)), startsAt: startsAt, endsAt: endsAt,
            reservationTTL: ttl, paymentWindow: window, weight: try d.double("weight", default: 1, in: 0...1_000_000),
            reservationCap: try d.int("reservationCap", default: 0, in: 0...1000),
            cancelCoolDown: seconds(try d.double("cancelCoolDownSeconds", default: 0, in: 0...86_400)))
    }

    static func readHTTPDefaults() -> HTTPTier {
        HTTPTier(
            replicas: 2, concurrencyPerReplica: 256, coresPerReplica: 1, acceptQueue: 4096, requestTimeout: 10_000_000_000,
            cpu: Operation.allCases.map { _ in .constantMs(0.3) }, admission: .none, shedLatency: .constantMs(0.05))
    }

    static func readHTTP(_ h: inout JSONReader, directory: String) throws(ScenarioError) -> HTTPTier {
        var tier = readHTTPDefaults()
        tier.replicas = try h.int("replicas", default: 2, in: 1...1000)
        tier.concurrencyPerReplica = try h.int("concurrencyPerReplica", default: 256, in: 1...1_000_000)
        tier.coresPerReplica = try h.int("coresPerReplica", default: 1, in: 1...256)
        tier.acceptQueue = try h.int("acceptQueue", default: 4096, in: 0...10_000_000)
        tier.requestTimeout = millis(try h.double("requestTimeoutMs", default: 10_000, in: 1...3_600_000))
        if let cpu = try h.object("cpu", { (c: inout JSONReader) throws(ScenarioError) -> [Distribution] in
            var result: [Distribution] = []
            for op in Operation.allCases { result.append(try c.distribution(op.name, directory: directory, default: .constantMs(0.3))) }
            return result
        }) { tier.cpu = cpu }
        if let admission = try h.object("admission", { (a: inout JSONReader) throws(ScenarioError) -> (Admission, Distribution) in
            let kind = try a.string("type", oneOf: ["none", "rateLimit", "concurrencyLimit"])
            let shed = try a.distribution("shedLatency", directory: directory, default: .constantMs(0.05))
            switch kind {
            case "rateLimit":
                return (.rateLimit(rate: try a.double("ratePerSecond", in: 0.001...100_000_000), burst: try a.double("burst", default: 100, in: 1...100_000_000)), shed)
            case "concurrencyLimit":
                return (.concurrencyLimit(try a.int("maxInFlightPerReplica", in: 1...10_000_000)), shed)
            default:
                return (.none, shed)
            }
        }) { (tier.admission, tier.shedLatency) = admission }
        tier.machine = try h.object("machine") { (m: inout JSONReader) throws(ScenarioError) -> Machine in
            _ = try m.string("sharing", default: "processorSharing", oneOf: ["processorSharing"])
            let quota = try m.object("quota") { (q: inout JSONReader) throws(ScenarioError) -> ProcessorSharing.Quota in
                let period = millis(try q.double("periodMs", default: 100, in: 1...10_000))
                return ProcessorSharing.Quota(cpuPerPeriod: millis(try q.double("cpuMs", in: 0.01...1_000_000)), period: period)
            }
            let demand = try m.object("demand") { (d: inout JSONReader) throws(ScenarioError) -> [Distribution] in
                var result: [Distribution] = []
                for op in Operation.allCases { result.append(try d.distribution(op.name, directory: directory, default: .constant(0))) }
                return result
            }
            let byRate = try m.objects("cpuByRate") { (p: inout JSONReader) throws(ScenarioError) -> Machine.RatePoint in
                Machine.RatePoint(
                    rate: try p.double("rate", in: 0...10_000_000), server: try p.double("server", in: 0.01...100), others: try p.double("others", in: 0.01...100))
            } ?? []
            guard zip(byRate, byRate.dropFirst()).allSatisfy({ $0.rate < $1.rate }) else {
                throw ScenarioError(path: "\(m.path).cpuByRate", message: "the points' rates must rise")
            }
            var machine = Machine(
                background: try m.double("background", default: 0, in: 0...1000), quota: quota,
                wakeUp: try m.distribution("wakeUp", directory: directory, default: .constant(0)), demand: demand ?? [], cpuByRate: byRate)
            machine.demandOnPath = try m.double("demandOnPath", default: 1, in: 0...1)
            machine.eventLoops = try m.int("eventLoops", default: 0, in: 0...1024)
            machine.otherThreads = try m.int("otherThreads", default: 0, in: 0...1024)
            machine.writer = try m.object("writer") { (w: inout JSONReader) throws(ScenarioError) -> Machine.WriterTier in
                Machine.WriterTier(cpuPerMessage: try w.distribution("cpuPerMessage", directory: directory), cores: try w.double("cores", default: 1, in: 0.01...1024))
            }
            return machine
        }
        return tier
    }

    static func readKafkaDefaults() -> KafkaTier {
        KafkaTier(
            partitions: 6, linger: 5_000_000, batchSize: 500, brokerThreads: 2, batchService: .constantMs(0.3), perMessageService: 1_000,
            consumers: 2, maxPollRecords: 500, pollInterval: 50_000_000, consumerRate: 50_000)
    }

    static func readKafka(_ k: inout JSONReader, directory: String) throws(ScenarioError) -> KafkaTier {
        var tier = KafkaTier(
            partitions: try k.int("partitions", default: 6, in: 1...10_000),
            linger: millis(try k.double("lingerMs", default: 5, in: 0...60_000)),
            batchSize: try k.int("batchSize", default: 500, in: 1...1_000_000),
            brokerThreads: try k.int("brokerThreads", default: 2, in: 1...1024),
            batchService: try k.distribution("batchService", directory: directory, default: .constantMs(0.3)),
            perMessageService: try k.double("perMessageUs", default: 1, in: 0...1_000_000) * 1e3,
            consumers: try k.int("consumers", default: 2, in: 1...10_000),
            maxPollRecords: try k.int("maxPollRecords", default: 500, in: 1...1_000_000),
            pollInterval: millis(try k.double("pollIntervalMs", default: 50, in: 0.001...60_000)),
            consumerRate: try k.double("consumerRatePerSecond", default: 50_000, in: 0.001...1_000_000_000))
        tier.requestWaitsForAck = try k.bool("requestWaitsForAck", default: false)
        return tier
    }

    static func readAutoscaling(_ a: inout JSONReader, replicas: Int) throws(ScenarioError) -> Autoscaling {
        let minReplicas = try a.int("minReplicas", default: replicas, in: 1...1000)
        let maxReplicas = try a.int("maxReplicas", default: max(replicas, 10), in: 1...1000)
        guard maxReplicas >= minReplicas else { throw ScenarioError(path: "\(a.path).maxReplicas", message: "must be at least minReplicas (\(minReplicas))") }
        func policies(_ key: String) throws(ScenarioError) -> [ScalePolicy]? {
            try a.objects(key) { (p: inout JSONReader) throws(ScenarioError) in
                ScalePolicy(
                    kind: try p.string("type", oneOf: ["pods", "percent"]) == "pods" ? .pods : .percent,
                    value: try p.int("value", in: 1...100_000), period: seconds(try p.double("periodSeconds", default: 15, in: 1...3600)))
            }
        }
        let preScale = try a.object("preScale") { (p: inout JSONReader) throws(ScenarioError) in
            Autoscaling.PreScale(at: seconds(try p.double("atSeconds", in: 0...86_400)), minReplicas: try p.int("minReplicas", in: 1...1000))
        }
        return Autoscaling(
            minReplicas: minReplicas, maxReplicas: maxReplicas,
            targetUtilization: try a.double("targetCpuUtilization", default: 0.6, in: 0.01...1),
            inFlightTarget: a.has("targetInFlightPerReplica") ? try a.double("targetInFlightPerReplica", in: 0.01...1_000_000) : nil,
            tolerance: try a.double("tolerance", default: 0.1, in: 0...1),
            syncPeriod: seconds(try a.double("syncPeriodSeconds", default: 15, in: 0.1...600)),
            scaleUpStabilization: seconds(try a.double("scaleUpStabilizationSeconds", default: 0, in: 0...3600)),
            scaleDownStabilization: seconds(try a.double("scaleDownStabilizationSeconds", default: 300, in: 0...3600)),
            scaleUpPolicies: try policies("scaleUpPolicies")
                ?? [ScalePolicy(kind: .pods, value: 4, period: 15_000_000_000), ScalePolicy(kind: .percent, value: 100, period: 15_000_000_000)],
            scaleDownPolicies: try policies("scaleDownPolicies") ?? [ScalePolicy(kind: .percent, value: 100, period: 15_000_000_000)],
            podStartup: seconds(try a.double("podStartupSeconds", default: 20, in: 0...3600)), preScale: preScale)
    }

    /// JSON with sorted keys and no insignificant white space: the text that is hashed and stored.
    static func canonical(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONReader {
    /// A distribution object (`{"type": "exponential", "meanMs": 2}`), or the default when absent
    /// (with none, it is required).
    public mutating func distribution(_ key: String, directory: String, default defaultValue: Distribution? = nil) throws(ScenarioError) -> Distribution {
        guard let found = try object(key, { (d: inout JSONReader) throws(ScenarioError) in try d.readDistribution(directory: directory) }) ?? defaultValue else {
            throw ScenarioError(path: child(key), message: "is required (a distribution)")
        }
        return found
    }

    mutating func readDistribution(directory: String) throws(ScenarioError) -> Distribution {
        let type = try string("type", oneOf: ["constant", "uniform", "exponential", "normal", "lognormal", "pareto", "empirical", "mixture"])
        let ms = 1e6
        switch type {
        case "constant": return .constant(try double("valueMs", in: 0...3_600_000) * ms)
        case "uniform":
            let low = try double("minMs", in: 0...3_600_000), high = try double("maxMs", in: 0...3_600_000)
            guard high >= low else { throw ScenarioError(path: "\(path).maxMs", message: "must be at least minMs") }
            return .uniform(min: low * ms, max: high * ms)
        case "exponential": return .exponential(mean: try double("meanMs", in: 0.000001...3_600_000) * ms)
        case "normal": return .normal(mean: try double("meanMs", in: 0...3_600_000) * ms, sd: try double("sdMs", in: 0...3_600_000) * ms)
        case "lognormal": return .lognormal(mean: try double("meanMs", in: 0.000001...3_600_000) * ms, sd: try double("sdMs", in: 0...3_600_000) * ms)
        case "pareto": return .pareto(scale: try double("scaleMs", in: 0.000001...3_600_000) * ms, shape: try double("shape", in: 0.01...100))
        case "empirical":
            if let samples = try numbers("samplesMs") {
                guard !samples.isEmpty, samples.allSatisfy({ $0 >= 0 }) else {
                    throw ScenarioError(path: "\(path).samplesMs", message: "expected a non-empty array of non-negative numbers")
                }
                return .empirical(values: samples.map { $0 * ms }, weights: samples.map { _ in 1 })
            }
            let file = try string("histogramFile")
            return try Self.histogram(file: file.hasPrefix("/") ? file : "\(directory)/\(file)", path: "\(path).histogramFile")
        default:
            guard let parts = try objects("components", { (c: inout JSONReader) throws(ScenarioError) -> (Double, Distribution) in
                let weight = try c.double("weight", in: 0...1_000_000)
                guard let inner = try c.object("distribution", { (d: inout JSONReader) throws(ScenarioError) in try d.readDistribution(directory: directory) }) else {
                    throw ScenarioError(path: "\(c.path).distribution", message: "is required")
                }
                return (weight, inner)
            }), !parts.isEmpty else { throw ScenarioError(path: "\(path).components", message: "is required: at least one component") }
            let total = parts.reduce(0) { $0 + $1.0 }
            guard total > 0 else { throw ScenarioError(path: "\(path).components", message: "weights must not all be 0") }
            return .mixture(weights: parts.map { $0.0 / total }, components: parts.map(\.1))
        }
    }

    /// A histogram file: lines `valueMs,count` (a header line and `#` comments are skipped).
    static func histogram(file: String, path: String) throws(ScenarioError) -> Distribution {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ScenarioError(path: path, message: "cannot read \(file)")
        }
        var values: [Double] = [], weights: [Double] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let cells = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, let v = Double(cells[0]), let w = Double(cells[1]), v >= 0, w >= 0 else {
                if n == 0 { continue }  // a header
                throw ScenarioError(path: path, message: "\(file) line \(n + 1): expected `valueMs,count`")
            }
            values.append(v * 1e6); weights.append(w)
        }
        guard !values.isEmpty, weights.reduce(0, +) > 0 else { throw ScenarioError(path: path, message: "\(file) has no rows") }
        return .empirical(values: values, weights: weights)
    }

    mutating func stringArray(_ key: String) throws(ScenarioError) -> [String]? {
        guard let value = raw(key) else { return nil }
        guard let array = value as? [String] else { throw ScenarioError(path: child(key), message: "expected an array of strings") }
        return array
    }
}
