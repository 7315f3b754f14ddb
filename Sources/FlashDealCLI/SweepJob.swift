import Foundation
import Sim

/// `flashdeal sweep --emit-k8s-job DIR`: a kustomize folder that runs a sweep on a Kubernetes
/// cluster as an Indexed Job, each pod one shard (`--shard $(JOB_COMPLETION_INDEX)/n`) writing its
/// runs to its own store on a shared volume; a second Job merges them (`results merge`).
///
/// Files: `kustomization.yaml` (the Job, the volume, and a ConfigMap of the scenario bundled with
/// what it includes), `sweep-job.yaml`, `results-volume.yaml`, `merge-job.yaml` (applied once the
/// sweep completes), `scenario.json` and any histogram files it names.
struct SweepJob {
    var name: String
    var vary: [String]
    var sloP95Ms: Double
    var shards: Int
    var image: String
    var namespace: String
    var bundle: Scenario.Bundle

    init(scenarioPath: String, name scenarioName: String, vary: [String], sloP95Ms: Double, shards: Int, image: String, namespace: String) throws {
        let slug = scenarioName.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { out, c in
            if !(c == "-" && (out.isEmpty || out.hasSuffix("-"))) { out.append(c) }
        }
        name = "flashdeal-sweep-" + String(slug.prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        self.vary = vary
        self.sloP95Ms = sloP95Ms
        self.shards = shards
        self.image = image
        self.namespace = namespace
        bundle = try Scenario.bundle(path: scenarioPath)
    }

    /// A YAML flow sequence of strings (JSON's syntax, which YAML reads).
    static func flow(_ items: [String]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: items, options: [.withoutEscapingSlashes]), as: UTF8.self)
    }

    var sweepArguments: [String] {
        ["sweep", "--scenario", "/scenario/scenario.json"] + vary.flatMap { ["--vary", $0] }
            + ["--slo-p95-ms", String(sloP95Ms), "--shard", "$(JOB_COMPLETION_INDEX)/\(shards)", "--results", "/results/shard-$(JOB_COMPLETION_INDEX).sqlite"]
    }

    var mergeArguments: [String] {
        ["results", "merge", "--results", "/results/merged.sqlite"] + (0..<shards).map { "/results/shard-\($0).sqlite" }
    }

    /// The pod both Jobs run: the image's non-root user, a read-only root, the scenario's
    /// ConfigMap and the shared results volume.
    func pod(container: String, arguments: [String], indexed: Bool, cpu: String) -> String {
        """
            metadata:
              labels:
                app.kubernetes.io/name: flashdeal
                app.kubernetes.io/component: \(container)
            spec:
              restartPolicy: Never
              automountServiceAccountToken: false
              securityContext:
                runAsNonRoot: true
                runAsUser: 10001
                runAsGroup: 10001
                fsGroup: 10001
                seccompProfile:
                  type: RuntimeDefault
              containers:
                - name: \(container)
                  image: \(image)
                  imagePullPolicy: Always
                  args: \(Self.flow(arguments))
        \(indexed ? """
                  env:
                    # Set by the Job controller on every pod of an Indexed Job; named here so that
                    # $(JOB_COMPLETION_INDEX) in args expands to it.
                    - name: JOB_COMPLETION_INDEX
                      valueFrom:
                        fieldRef:
                          fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']

        """ : "")\
                  resources:
                    requests:
                      cpu: "\(cpu)"
                      memory: 512Mi
                    limits:
                      cpu: "\(cpu)"
                      memory: 2Gi
                  securityContext:
                    allowPrivilegeEscalation: false
                    readOnlyRootFilesystem: true
                    runAsNonRoot: true
                    capabilities:
                      drop: ["ALL"]
                  volumeMounts:
                    - name: scenario
                      mountPath: /scenario
                      readOnly: true
                    - name: results
                      mountPath: /results
                    - name: tmp
                      mountPath: /tmp
              volumes:
                - name: scenario
                  configMap:
                    name: \(name)-scenario
                - name: results
                  persistentVolumeClaim:
                    claimName: \(name)-results
                - name: tmp
                  emptyDir:
                    sizeLimit: 256Mi
        """
    }

    func job(_ jobName: String, component: String, arguments: [String], indexed: Bool, cpu: String) -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(jobName)
          namespace: \(namespace)
          labels:
            app.kubernetes.io/name: flashdeal
            app.kubernetes.io/component: \(component)
        spec:
        \(indexed ? """
          completionMode: Indexed
          completions: \(shards)
          parallelism: \(shards)
          # A pod that fails is retried twice on its own index; the others go on.
          backoffLimitPerIndex: 2

        """ : """
          backoffLimit: 2

        """)\
          ttlSecondsAfterFinished: 604800
          template:
        \(pod(container: component, arguments: arguments, indexed: indexed, cpu: cpu))

        """
    }

    var files: [(String, Data)] {
        let header = "# Written by `flashdeal sweep --emit-k8s-job` for the scenario \(bundle.files.isEmpty ? "" : "(and its histograms) ")in scenario.json.\n"
        let kustomization = header + """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: \(namespace)
            resources:
              - results-volume.yaml
              - sweep-job.yaml
            configMapGenerator:
              - name: \(name)-scenario
                files:
            \((["scenario.json"] + bundle.files.map(\.name)).map { "      - \($0)" }.joined(separator: "\n"))
            generatorOptions:
              # The Jobs name the ConfigMap as written (merge-job.yaml is applied on its own).
              disableNameSuffixHash: true

            """
        let volume = header + """
            # Every shard writes its store here and the merge reads them all: a volume many pods on
            # many nodes can mount (ReadWriteMany: NFS, CephFS, EFS, Filestore...).
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: \(name)-results
              labels:
                app.kubernetes.io/name: flashdeal
            spec:
              accessModes: ["ReadWriteMany"]
              resources:
                requests:
                  storage: 2Gi

            """
        // One core per shard: the simulator runs a shard's points over the cores it has.
        let sweep = header + job(name, component: "sweep", arguments: sweepArguments, indexed: true, cpu: "1")
        let merge = header + "# Apply once the sweep's Job is complete (`kubectl wait --for=condition=complete job/\(name)`).\n"
            + job("\(name)-merge", component: "sweep-merge", arguments: mergeArguments, indexed: false, cpu: "500m")
        var out: [(String, Data)] = [
            ("kustomization.yaml", Data(kustomization.utf8)), ("results-volume.yaml", Data(volume.utf8)),
            ("sweep-job.yaml", Data(sweep.utf8)), ("merge-job.yaml", Data(merge.utf8)), ("scenario.json", bundle.document),
        ]
        for file in bundle.files {
            out.append((file.name, (try? Data(contentsOf: URL(fileURLWithPath: file.source))) ?? Data()))
        }
        return out
    }

    /// Writes the folder; returns the paths written.
    func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try files.map { name, data in
            let path = (directory as NSString).appendingPathComponent(name)
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    func instructions(directory: String) -> String {
        """
        Run it in the namespace \(namespace):
          kubectl apply -k \(directory)
          kubectl -n \(namespace) wait --for=condition=complete --timeout=24h job/\(name)
          kubectl apply -f \(directory)/merge-job.yaml
          kubectl -n \(namespace) wait --for=condition=complete --timeout=1h job/\(name)-merge
        then copy /results/merged.sqlite off the volume (kubectl cp from a pod that mounts \(name)-results).
        """
    }
}
