public import Foundation
import Sim
import Yams

/// A rendered k8s/ overlay as the simulator needs it: the API's HorizontalPodAutoscaler
/// (autoscaling/v2: bounds, metrics, behaviour) and its pods' CPU request, so that a capacity
/// plan reads the deployment itself and the two cannot drift apart.
///
/// Read: `minReplicas` (Kubernetes' default 1), `maxReplicas`; the metrics, of which the simulator
/// models CPU utilisation (`Resource` cpu, `Utilization`) and the requests in flight per pod
/// (`Pods` `flashdeal_admission_requests_in_flight`, `AverageValue`), refusing any other;
/// `behavior.scaleUp` and `scaleDown`'s stabilisation windows and policies (`selectPolicy: Max`,
/// the default, only); the CPU request of the scaled workload's `flashdeal` container (a Deployment,
/// or a Rollout's `workloadRef` Deployment), in whole cores. The sync period, the tolerance and
/// the pod start-up are the cluster's, not the overlay's: they stay the scenario's.
public struct KubernetesOverlay: Sendable {
    public struct Policy: Sendable, Hashable {
        public var type: String
        public var value: Int
        public var periodSeconds: Int

        public init(type: String, value: Int, periodSeconds: Int) {
            self.type = type
            self.value = value
            self.periodSeconds = periodSeconds
        }
    }

    public var source: String
    public var hpaName: String
    public var minReplicas: Int
    public var maxReplicas: Int
    public var targetCPUUtilization: Double?
    public var targetInFlight: Double?
    public var scaleUpStabilizationSeconds: Int
    public var scaleUpPolicies: [Policy]
    public var scaleDownStabilizationSeconds: Int
    public var scaleDownPolicies: [Policy]
    public var coresPerReplica: Int

    /// What went wrong reading an overlay, named.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Renders `overlay` (a kustomize folder, with `kubectl kustomize`) or reads it (a file of
    /// rendered YAML), and reads the HPA that scales `target`.
    public static func load(_ overlay: String, target: String = "flashdeal-api", kubectl: String = "kubectl") throws(Problem) -> KubernetesOverlay {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: overlay, isDirectory: &isFolder) else {
            throw Problem("no overlay at \(overlay) (a kustomize folder such as k8s/overlays/prod, or a file of rendered YAML)")
        }
        let yaml: String
        if isFolder.boolValue {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [kubectl, "kustomize", overlay]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            do { try process.run() } catch { throw Problem("cannot run \(kubectl) kustomize \(overlay): \(error)") }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Problem("\(kubectl) kustomize \(overlay) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            yaml = String(decoding: data, as: UTF8.self)
        } else {
            guard let text = try? String(contentsOfFile: overlay, encoding: .utf8) else { throw Problem("cannot read \(overlay)") }
            yaml = text
        }
        let documents: [[String: Any]]
        do {
            documents = try Yams.load_all(yaml: yaml).compactMap { $0 as? [String: Any] }
        } catch {
            throw Problem("\(overlay) is not YAML: \(error)")
        }
        return try KubernetesOverlay(documents: documents, target: target, source: overlay)
    }

    /// Reads the HPA that scales `target` among `documents` (Kubernetes objects).
    public init(documents: [[String: Any]], target: String = "flashdeal-api", source: String) throws(Problem) {
        self.source = source
        func kind(_ d: [String: Any]) -> String { d["kind"] as? String ?? "" }
        func name(_ d: [String: Any]) -> String { (d["metadata"] as? [String: Any])?["name"] as? String ?? "" }
        guard let hpa = documents.first(where: { kind($0) == "HorizontalPodAutoscaler" && (($0["spec"] as? [String: Any])?["scaleTargetRef"] as? [String: Any])?["name"] as? String == target }),
            let spec = hpa["spec"] as? [String: Any], let ref = spec["scaleTargetRef"] as? [String: Any]
        else { throw Problem("\(source) has no HorizontalPodAutoscaler scaling \(target)") }
        hpaName = name(hpa)
        let at = "\(source): HorizontalPodAutoscaler/\(hpaName)"
        minReplicas = Self.int(spec["minReplicas"]) ?? 1
        guard let maxReplicas = Self.int(spec["maxReplicas"]), maxReplicas >= minReplicas else {
            throw Problem("\(at): spec.maxReplicas is missing or below minReplicas")
        }
        self.maxReplicas = maxReplicas
        var cpu: Double?, inFlight: Double?
        for (i, metric) in ((spec["metrics"] as? [[String: Any]]) ?? []).enumerated() {
            let type = metric["type"] as? String
            if type == "Resource", let resource = metric["resource"] as? [String: Any], resource["name"] as? String == "cpu",
                let target = resource["target"] as? [String: Any], target["type"] as? String == "Utilization",
                let utilisation = Self.int(target["averageUtilization"])
            {
                cpu = Double(utilisation) / 100
            } else if type == "Pods", let pods = metric["pods"] as? [String: Any],
                (pods["metric"] as? [String: Any])?["name"] as? String == "flashdeal_admission_requests_in_flight",
                let target = pods["target"] as? [String: Any], target["type"] as? String == "AverageValue",
                let value = Self.quantity(target["averageValue"])
            {
                inFlight = value
            } else {
                throw Problem("\(at): spec.metrics[\(i)] is not one the simulator models (Resource cpu Utilization, or Pods flashdeal_admission_requests_in_flight AverageValue)")
            }
        }
        guard cpu != nil || inFlight != nil else { throw Problem("\(at): no metric the simulator models") }
        targetCPUUtilization = cpu
        targetInFlight = inFlight
        let behavior = spec["behavior"] as? [String: Any] ?? [:]
        func rules(_ side: String, stabilization: Int, policies: [Policy]) throws(Problem) -> (Int, [Policy]) {
            guard let rules = behavior[side] as? [String: Any] else { return (stabilization, policies) }
            if let select = rules["selectPolicy"] as? String, select != "Max" {
                throw Problem("\(at): behavior.\(side).selectPolicy \(select): the simulator models Max, the default")
            }
            var read: [Policy] = []
            for (i, p) in ((rules["policies"] as? [[String: Any]]) ?? []).enumerated() {
                guard let type = p["type"] as? String, ["Pods", "Percent"].contains(type), let value = Self.int(p["value"]),
                    let period = Self.int(p["periodSeconds"])
                else { throw Problem("\(at): behavior.\(side).policies[\(i)] needs type Pods or Percent, value and periodSeconds") }
                read.append(Policy(type: type, value: value, periodSeconds: period))
            }
            return (Self.int(rules["stabilizationWindowSeconds"]) ?? stabilization, read.isEmpty ? policies : read)
        }
        // Kubernetes' defaults when the behaviour names none.
        (scaleUpStabilizationSeconds, scaleUpPolicies) = try rules(
            "scaleUp", stabilization: 0, policies: [Policy(type: "Pods", value: 4, periodSeconds: 15), Policy(type: "Percent", value: 100, periodSeconds: 15)])
        (scaleDownStabilizationSeconds, scaleDownPolicies) = try rules(
            "scaleDown", stabilization: 300, policies: [Policy(type: "Percent", value: 100, periodSeconds: 15)])
        // The scaled workload's pods: a Deployment, or the Deployment a Rollout takes its pods from.
        var workload = documents.first { kind($0) == ref["kind"] as? String && name($0) == ref["name"] as? String }
        if let rollout = workload, kind(rollout) == "Rollout",
            let workloadRef = (rollout["spec"] as? [String: Any])?["workloadRef"] as? [String: Any]
        {
            workload = documents.first { kind($0) == workloadRef["kind"] as? String && name($0) == workloadRef["name"] as? String }
        }
        guard let workload,
            let containers = (((workload["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]],
            let container = containers.first(where: { $0["name"] as? String == "flashdeal" }) ?? containers.first
        else { throw Problem("\(at): the workload it scales, \(ref["kind"] ?? "?")/\(ref["name"] ?? "?"), is not in \(source)") }
        guard let request = Self.quantity(((container["resources"] as? [String: Any])?["requests"] as? [String: Any])?["cpu"]) else {
            throw Problem("\(at): the pods have no CPU request (the HPA's utilisation is a share of it)")
        }
        guard request >= 1, request == request.rounded() else {
            throw Problem("\(at): the pods request \(request) cores; the simulator models whole cores per replica")
        }
        coresPerReplica = Int(request)
    }

    /// `document` (a scenario) with this HPA as its `autoscaling` (keeping the scenario's sync
    /// period, tolerance and pod start-up) and its pods' cores, starting at `minReplicas`.
    public func applied(to document: Data) throws(Problem) -> Data {
        guard var root = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else { throw Problem("the scenario is not a JSON object") }
        var http = root["http"] as? [String: Any] ?? [:]
        http["replicas"] = minReplicas
        http["coresPerReplica"] = coresPerReplica
        root["http"] = http
        var autoscaling = root["autoscaling"] as? [String: Any] ?? [:]
        autoscaling["minReplicas"] = minReplicas
        autoscaling["maxReplicas"] = maxReplicas
        // An HPA on in-flight requests only still has a CPU recommendation in the simulator:
        // one that never asks for more (utilisation can not exceed 1).
        autoscaling["targetCpuUtilization"] = targetCPUUtilization ?? 1.0
        if let targetInFlight { autoscaling["targetInFlightPerReplica"] = targetInFlight } else { autoscaling.removeValue(forKey: "targetInFlightPerReplica") }
        autoscaling["scaleUpStabilizationSeconds"] = scaleUpStabilizationSeconds
        autoscaling["scaleDownStabilizationSeconds"] = scaleDownStabilizationSeconds
        let policy = { (p: Policy) -> [String: Any] in ["type": p.type.lowercased(), "value": p.value, "periodSeconds": p.periodSeconds] }
        autoscaling["scaleUpPolicies"] = scaleUpPolicies.map(policy)
        autoscaling["scaleDownPolicies"] = scaleDownPolicies.map(policy)
        root["autoscaling"] = autoscaling
        return try! JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    public var summary: String {
        let metrics = [targetCPUUtilization.map { "CPU \(Int(($0 * 100).rounded()))%" }, targetInFlight.map { "in flight \(Self.number($0))/pod" }]
            .compactMap { $0 }.joined(separator: ", ")
        let policies = { (ps: [Policy]) in ps.map { "\($0.type) \($0.value)/\($0.periodSeconds) s" }.joined(separator: ", ") }
        return "HorizontalPodAutoscaler/\(hpaName): \(minReplicas)...\(maxReplicas) replicas of \(coresPerReplica) core(s); \(metrics); "
            + "scale-up \(scaleUpStabilizationSeconds) s stabilisation, \(policies(scaleUpPolicies)); "
            + "scale-down \(scaleDownStabilizationSeconds) s, \(policies(scaleDownPolicies))"
    }

    static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    static func int(_ value: Any?) -> Int? {
        if let i = value as? Int { return i }
        if let s = value as? String { return Int(s) }
        return nil
    }

    /// A Kubernetes quantity as a number: `2`, `"1"`, `"500m"`, `"1.5"`.
    static func quantity(_ value: Any?) -> Double? {
        if let i = value as? Int { return Double(i) }
        if let d = value as? Double { return d }
        guard let s = value as? String else { return nil }
        if s.hasSuffix("m"), let milli = Double(s.dropLast()) { return milli / 1000 }
        return Double(s)
    }
}
