"""Checks k8s/ and the Dockerfile without a cluster or a container engine (`make test`).

1. `kubectl kustomize` renders every overlay in k8s/overlays, the prod overlay once more with
   each component no overlay uses (components/redis-cluster), and what `flashdeal sweep
   --emit-k8s-job` writes (the sweep's Indexed Job and the merge Job).
2. Every built-in object validates against the Kubernetes 1.32 schemas (kubernetes-validate,
   strict: an unknown field fails); every custom resource against its schema in k8s/schemas.
3. Our policy, on each workload's pod template (a Job's: all but the probes and what follows them): requests and limits for CPU and memory, readiness
   and liveness probes on the server's health routes, non-root, read-only root filesystem, no
   privilege escalation, every capability dropped, the runtime's seccomp profile, no service-account
   token, a preStop hook and a grace period longer than preStop + shutdownTimeout + 1 s; a
   PodDisruptionBudget, a NetworkPolicy and topology spread for each.
4. The objects agree with each other and with the server: the HPA's and KEDA's targets exist, the
   HPA's custom metric is the one prometheus-adapter-values.yaml serves, the writer's KEDA trigger
   names the server's consumer group and brokers and scales no further than the orders topic's
   partitions, every topic the server writes is a KafkaTopic, the backends keep the settings the
   shop depends on (Redis noeviction and AOF, min.insync.replicas 2 of 3 in prod, a three-member
   MongoDB), and `flashdeal config` accepts each overlay's ConfigMap and Secret as the pods get them.
5. The canary's AnalysisTemplate queries, under `promtool test rules` on synthetic series: a canary
   burning within budget passes, one burning fast fails, and the stable pods' errors do not count.
6. checkov's Kubernetes policies on every rendered overlay, and hadolint on the Dockerfile.

Usage: check-k8s.py FLASHDEAL_BINARY (run with .venv/k8s/bin/python, which scripts/bootstrap.sh makes).
"""
import base64
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S = os.path.join(ROOT, "k8s")
KUBERNETES = "1.32.0"
# Secrets an overlay expects to exist in the cluster, created outside git (docs/deploy.md).
EXTERNAL_SECRETS = {"prod": {"flashdeal-secrets", "flashdeal-mongo-password"}}
# checkov checks not applied, and why.
CHECKOV_SKIPS = {
    # No image is built here (no container engine); the release pipeline pins the digest it
    # pushed with `kustomize edit set image ghcr.io/flashdeal/flashdeal@sha256:...` in overlays/prod.
    "CKV_K8S_43": "image by digest",
}
failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def render(path):
    result = run(["kubectl", "kustomize", path])
    if result.returncode != 0:
        fail(path, f"kubectl kustomize failed: {result.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def sweep_job(binary):
    """What `flashdeal sweep --emit-k8s-job` writes, for a scenario with includes: the sweep's
    Indexed Job and its volume (rendered) and the merge Job applied after it."""
    with tempfile.TemporaryDirectory(dir=K8S, prefix=".check-") as scratch:
        result = run([binary, "sweep", "--scenario", os.path.join(ROOT, "experiments", "journey-1000.json"),
                      "--vary", "http.replicas=1,2,3", "--emit-k8s-job", scratch, "--shards", "3"])
        if result.returncode != 0:
            fail("sweep --emit-k8s-job", result.stderr.strip())
            return []
        return render(scratch) + [yaml.safe_load(open(os.path.join(scratch, "merge-job.yaml")))]


def renders(binary):
    """Every overlay, prod with each component no overlay uses, and an emitted sweep Job."""
    out = {}
    for overlay in sorted(glob.glob(os.path.join(K8S, "overlays", "*"))):
        out[os.path.basename(overlay)] = render(overlay)
    used = set()
    for kustomization in glob.glob(os.path.join(K8S, "overlays", "*", "kustomization.yaml")):
        for component in yaml.safe_load(open(kustomization)).get("components", []):
            used.add(os.path.basename(os.path.normpath(component)))
    for component in sorted(glob.glob(os.path.join(K8S, "components", "*"))):
        name = os.path.basename(component)
        if name in used:
            continue
        # kustomize takes only relative paths: a scratch overlay beside the others (git-ignored).
        with tempfile.TemporaryDirectory(dir=K8S, prefix=".check-") as scratch:
            with open(os.path.join(scratch, "kustomization.yaml"), "w") as f:
                yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                "resources": ["../overlays/prod"], "components": [f"../components/{name}"]}, f)
            out[f"prod+{name}"] = render(scratch)
    out["sweep-job"] = sweep_job(binary)
    return out


def schemas():
    common = yaml.safe_load(open(os.path.join(K8S, "schemas", "_common.yaml")))["definitions"]
    out = {}
    for path in glob.glob(os.path.join(K8S, "schemas", "*_*_*.yaml")):
        group, version, kind = os.path.basename(path)[:-5].rsplit("_", 2)
        schema = yaml.safe_load(open(path))
        schema["definitions"] = common
        jsonschema.Draft7Validator.check_schema(schema)
        out[(f"{group}/{version}", kind)] = jsonschema.Draft7Validator(schema)
    return out


def validate(name, docs, custom):
    for doc in docs:
        where = f"{name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key in custom:
            for error in custom[key].iter_errors(doc):
                fail(where, f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            fail(where, f"no schema for {key[0]} {key[1]}: a custom resource needs one in k8s/schemas")
        except kubernetes_validate.ValidationError as error:
            fail(where, f"Kubernetes {KUBERNETES}: {'/'.join(map(str, error.path)) or '(top)'}: {error.message}")


def find(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).get("matchLabels", {}).items())


def duration_seconds(text):
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", text))


def environment(docs, pod):
    """The FLASHDEAL_* environment a container of `pod` starts with, and its config file's text."""
    env, config = {}, None
    container = pod["containers"][0]
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        for cm in find(docs, "ConfigMap", ref):
            env.update(cm.get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "")
    path = env.get("FLASHDEAL_CONFIG")
    if path:
        for mount in container.get("volumeMounts", []):
            if path.startswith(mount["mountPath"].rstrip("/") + "/"):
                volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
                secret = volume.get("secret", {}).get("secretName")
                for s in find(docs, "Secret", secret):
                    data = s.get("data", {}).get(os.path.basename(path))
                    config = base64.b64decode(data).decode() if data else None
    return env, config


def policy(name, docs, routes):
    configs = {}
    for job in find(docs, "Job"):
        where = f"{name}: Job/{job['metadata']['name']}"
        pod = job["spec"]["template"]["spec"]
        pod_security(where, pod)
        for container in pod["containers"]:
            container_security(f"{where} container {container['name']}", container, pod)
    for deployment in find(docs, "Deployment"):
        where = f"{name}: Deployment/{deployment['metadata']['name']}"
        template = deployment["spec"]["template"]
        pod, labels = template["spec"], template["metadata"]["labels"]
        pod_security(where, pod)
        if not pod.get("topologySpreadConstraints"):
            fail(where, "no topology spread")
        env, config = environment(docs, pod)
        shutdown = duration_seconds(env.get("FLASHDEAL_SHUTDOWN_TIMEOUT", "25s"))
        for container in pod["containers"]:
            cwhere = f"{where} container {container['name']}"
            container_security(cwhere, container, pod)
            for probe in ("readinessProbe", "livenessProbe"):
                path = container.get(probe, {}).get("httpGet", {}).get("path")
                if path not in routes:
                    fail(cwhere, f"{probe} is not an HTTP probe on one of the server's routes {sorted(routes)} (found {path!r})")
            command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
            if not command:
                fail(cwhere, "no preStop hook")
                continue
            pre_stop = float(command[-1]) if command[0].endswith("sleep") else 0
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace <= pre_stop + shutdown + 1:
                fail(cwhere, f"grace period {grace} s is not longer than preStop {pre_stop:g} s + shutdownTimeout {shutdown:g} s + 1 s")
        if not any(selects(pdb["spec"]["selector"], labels) for pdb in find(docs, "PodDisruptionBudget")):
            fail(where, "no PodDisruptionBudget selects its pods")
        if not any(selects(np["spec"]["podSelector"], labels) for np in find(docs, "NetworkPolicy")):
            fail(where, "no NetworkPolicy selects its pods")
        configs[deployment["metadata"]["name"]] = (env, config)
    return configs


def pod_security(where, pod):
    if pod.get("automountServiceAccountToken") is not False:
        fail(where, "mounts a service-account token (automountServiceAccountToken: false)")
    if pod.get("securityContext", {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(where, "no RuntimeDefault seccomp profile")


def container_security(where, container, pod):
    resources = container.get("resources", {})
    for side in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(side, {}):
                fail(where, f"no {resource} in resources.{side}")
    sc = container.get("securityContext", {})
    if not (sc.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot")):
        fail(where, "may run as root (runAsNonRoot)")
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(where, "root filesystem is writable (readOnlyRootFilesystem)")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(where, "allows privilege escalation")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        fail(where, "keeps capabilities (drop: [ALL])")
    if container["image"].endswith(":latest") or ":" not in container["image"].rsplit("/", 1)[-1]:
        fail(where, f"image {container['image']} has no fixed tag")


def configuration(name, docs, configs, binary):
    """`flashdeal config` must accept what each Deployment's container is given."""
    external = EXTERNAL_SECRETS.get(name.split("+")[0], set())
    for secret in {v.get("secret", {}).get("secretName") for d in find(docs, "Deployment")
                   for v in d["spec"]["template"]["spec"].get("volumes", [])} - {None}:
        if not find(docs, "Secret", secret) and secret not in external:
            fail(name, f"the Secret {secret} is neither rendered nor one the overlay expects to be created outside git")
    for deployment, (env, config) in configs.items():
        clean = {k: v for k, v in env.items() if k.startswith("FLASHDEAL_") and k != "FLASHDEAL_CONFIG"}
        clean["PATH"] = os.environ.get("PATH", "")
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            args = [binary, "config"]
            if config is not None:
                f.write(config)
                f.flush()
                args += ["--config", f.name]
            result = run(args, env=clean)
        if result.returncode != 0:
            fail(f"{name}: Deployment/{deployment}", f"flashdeal config refuses its settings: {result.stderr.strip().splitlines()[0]}")
            configs[deployment] = (env, config, {})
            continue
        settings = dict(line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
        if deployment.endswith("writer") or deployment.endswith("api"):
            role = deployment.rsplit("-", 1)[-1]
            args = next(d for d in find(docs, "Deployment", deployment))["spec"]["template"]["spec"]["containers"][0]["args"]
            if role not in args:
                fail(f"{name}: Deployment/{deployment}", f"does not run --role {role}")
        if name.startswith("prod") or name == "dev":
            for key in ("redis.url", "kafka.brokers"):
                if settings.get(key, "unset") in ("unset", ""):
                    fail(f"{name}: Deployment/{deployment}", f"{key} is unset: the pods would start in the embedded mode")
        configs[deployment] = (env, config, settings)


def server_topics():
    source = open(os.path.join(ROOT, "Sources/Live/Kafka/KafkaEventPublisher.swift")).read()
    topics = {f"flashdeal.{t}" for t in re.findall(r'"\\\(prefix\)\.([a-z-]+)"', source)}
    consumer = open(os.path.join(ROOT, "Sources/Live/Kafka/EventConsumerService.swift")).read()
    topics |= set(re.findall(r'deadLetterTopic: String = "([^"]+)"', consumer))
    return topics


def agreement(name, docs, configs):
    adapter = yaml.safe_load(open(os.path.join(K8S, "components", "monitoring", "prometheus-adapter-values.yaml")))
    served = {rule["name"]["as"] for rule in adapter["rules"]["custom"]}
    for hpa in find(docs, "HorizontalPodAutoscaler"):
        where = f"{name}: HorizontalPodAutoscaler/{hpa['metadata']['name']}"
        ref = hpa["spec"]["scaleTargetRef"]
        if not find(docs, ref["kind"], ref["name"]):
            fail(where, f"scales {ref['kind']}/{ref['name']}, which the overlay does not hold")
        for metric in hpa["spec"].get("metrics", []):
            if metric["type"] == "Pods" and metric["pods"]["metric"]["name"] not in served:
                fail(where, f"reads {metric['pods']['metric']['name']}, which prometheus-adapter-values.yaml does not serve ({sorted(served)})")
        if not {"scaleUp", "scaleDown"} <= set(hpa["spec"].get("behavior", {})):
            fail(where, "no scale-up and scale-down behaviour")
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in find(docs, "KafkaTopic")}
    for topic in sorted(server_topics() - set(topics)):
        fail(name, f"the server writes {topic}, which no KafkaTopic creates (the shop never relies on auto-creation)")
    writer_settings = configs.get("flashdeal-writer", ({}, None, {}))[2]
    for so in find(docs, "ScaledObject"):
        where = f"{name}: ScaledObject/{so['metadata']['name']}"
        if not find(docs, "Deployment", so["spec"]["scaleTargetRef"]["name"]):
            fail(where, f"scales {so['spec']['scaleTargetRef']['name']}, which the overlay does not hold")
        for trigger in so["spec"]["triggers"]:
            if trigger["type"] != "kafka":
                continue
            meta = trigger["metadata"]
            group = f"{writer_settings.get('kafka.topicPrefix', 'flashdeal')}-writers"
            if meta["consumerGroup"] != group:
                fail(where, f"watches the consumer group {meta['consumerGroup']}, the writers' is {group}")
            if meta["bootstrapServers"] != writer_settings.get("kafka.brokers"):
                fail(where, f"asks {meta['bootstrapServers']}, the writers use {writer_settings.get('kafka.brokers')}")
            topic = topics.get(meta.get("topic"))
            if topic is None:
                fail(where, f"watches {meta.get('topic')}, which no KafkaTopic creates")
            elif so["spec"]["maxReplicaCount"] > topic["spec"]["partitions"]:
                fail(where, f"may run {so['spec']['maxReplicaCount']} writers for {topic['spec']['partitions']} partitions")
    for cm in find(docs, "ConfigMap"):
        conf = cm.get("data", {}).get("redis-additional.conf")
        if conf is not None:
            settings = dict(line.split(None, 1) for line in conf.splitlines() if line.strip() and not line.startswith("#"))
            if settings.get("maxmemory-policy") != "noeviction" or settings.get("appendonly") != "yes":
                fail(f"{name}: ConfigMap/{cm['metadata']['name']}", "Redis must run with maxmemory-policy noeviction and appendonly yes")
    if name.startswith("prod"):
        for kafka in find(docs, "Kafka"):
            config = kafka["spec"]["kafka"].get("config", {})
            if int(config.get("min.insync.replicas", 1)) < 2 or int(config.get("default.replication.factor", 1)) < 3:
                fail(f"{name}: Kafka/{kafka['metadata']['name']}", "acks=all needs min.insync.replicas >= 2 of 3 replicas")
        for topic in topics.values():
            if topic["spec"]["replicas"] < 3 or int(topic["spec"].get("config", {}).get("min.insync.replicas", 1)) < 2:
                fail(f"{name}: KafkaTopic/{topic['metadata']['name']}", "fewer than 3 replicas or 2 in sync")
        for mongo in find(docs, "MongoDBCommunity"):
            if mongo["spec"]["members"] < 3:
                fail(f"{name}: MongoDBCommunity/{mongo['metadata']['name']}", "w: majority needs a replica set of at least three")
    for deployment, (_, _, settings) in configs.items():
        uri = settings.get("mongo.uri", "")
        if re.search(r"[?&]w=(0|1)(&|$)", uri):
            fail(f"{name}: Deployment/{deployment}", "mongo.uri weakens the write concern below majority")
    for rollout in find(docs, "Rollout"):
        where = f"{name}: Rollout/{rollout['metadata']['name']}"
        ref = rollout["spec"].get("workloadRef")
        if ref and not find(docs, ref["kind"], ref["name"]):
            fail(where, f"takes its pods from {ref['kind']}/{ref['name']}, which the overlay does not hold")
        for template in rollout["spec"]["strategy"]["canary"].get("analysis", {}).get("templates", []):
            if not find(docs, "AnalysisTemplate", template["templateName"]):
                fail(where, f"analysis {template['templateName']} is not in the overlay")


def analysis_tests(docs):
    """The AnalysisTemplate's queries on synthetic series: promtool evaluates them, and each case
    must give the burn rate expected (and so pass or fail the metric's conditions)."""
    templates = find(docs, "AnalysisTemplate")
    if not templates:
        return
    hash_ = "canary7f9c"
    # Per minute: 60,000 GraphQL requests (1,000/s) on the canary and on the stable pods;
    # placeOrder answers with their 0.15 s bucket.
    def series(errors, slow, stable_errors):
        out = []
        for pod_hash, err, slow_ in ((hash_, errors, slow), ("stable5d4b", stable_errors, 0.5)):
            out += [
                {"series": f'flashdeal_http_requests_total{{route="/graphql",status="200",rollouts_pod_template_hash="{pod_hash}"}}', "values": f"0+{60000 - err * 60:g}x15"},
                {"series": f'flashdeal_http_requests_total{{route="/graphql",status="503",rollouts_pod_template_hash="{pod_hash}"}}', "values": f"0+{err * 60:g}x15"},
                {"series": f'flashdeal_graphql_operation_duration_seconds_count{{operation="placeOrder",rollouts_pod_template_hash="{pod_hash}"}}', "values": "0+12000x15"},
                {"series": f'flashdeal_graphql_operation_duration_seconds_bucket{{operation="placeOrder",le="0.15",rollouts_pod_template_hash="{pod_hash}"}}', "values": f"0+{12000 * (1 - slow_):g}x15"},
            ]
        return out
    # (errors/s of 1,000, share of placeOrder slower than 150 ms, stable errors/s) -> burn rates.
    cases = [
        ("healthy canary, failing stable pods", (1, 0.01, 400), {"availability-burn-rate": 0.2, "placeorder-latency-burn-rate": 0.2}),
        ("canary burning its error budget", (100, 0.01, 0), {"availability-burn-rate": 20.0, "placeorder-latency-burn-rate": 0.2}),
        ("canary slow on placeOrder", (0, 0.9, 0), {"availability-burn-rate": 0.0, "placeorder-latency-burn-rate": 18.0}),
    ]
    for template in templates:
        metrics = {m["name"]: m for m in template["spec"]["metrics"]}
        tests = []
        for title, (errors, slow, stable), expected in cases:
            exprs = []
            for metric, burn in expected.items():
                query = metrics[metric]["provider"]["prometheus"]["query"].replace("{{args.canary-hash}}", hash_)
                # The burn rate to two decimals (promtool compares exactly), and the verdict.
                exprs.append({"expr": f"round(({query}) * 100)", "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": round(burn * 100)}]})
                exprs.append({"expr": f"({query}) < bool 14.4", "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": int(burn < 14.4)}]})
                if "result[0] < 14.4" not in metrics[metric]["successCondition"]:
                    fail(f"AnalysisTemplate/{template['metadata']['name']}", f"{metric}'s successCondition is not the page threshold, 14.4")
            tests.append({"interval": "1m", "input_series": series(errors, slow, stable), "promql_expr_test": exprs, "name": title})
        with tempfile.TemporaryDirectory() as scratch:
            with open(os.path.join(scratch, "rules.yml"), "w") as f:
                f.write("groups: []\n")
            with open(os.path.join(scratch, "analysis.test.yml"), "w") as f:
                yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}, f)
            result = run(["promtool", "test", "rules", "analysis.test.yml"], cwd=scratch)
            if result.returncode != 0:
                fail(f"AnalysisTemplate/{template['metadata']['name']}", "promtool: " + (result.stdout + result.stderr).strip()[-1500:])


def checkov(rendered):
    with tempfile.TemporaryDirectory() as scratch:
        for name, docs in rendered.items():
            with open(os.path.join(scratch, f"{name}.yaml"), "w") as f:
                yaml.safe_dump_all(docs, f)
        result = run([os.path.join(os.path.dirname(sys.executable), "checkov"), "-d", scratch, "--framework", "kubernetes",
                      "--quiet", "--compact", "--skip-check", ",".join(CHECKOV_SKIPS), "--output", "json"],
                     env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_GUIDE": "TRUE"})
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            fail("checkov", f"no report: {result.stderr.strip()[-500:]}")
            return 0
        reports = report if isinstance(report, list) else [report]
        passed = 0
        for r in reports:
            passed += r.get("summary", {}).get("passed", 0)
            for check in r.get("results", {}).get("failed_checks", []):
                fail("checkov", f"{check['check_id']} {check['check_name']}: {check['resource']} ({os.path.basename(check['file_path'])})")
        return passed


def hadolint():
    binary = os.path.join(os.path.dirname(sys.executable), "hadolint")
    result = run([binary, "--config", os.path.join(ROOT, ".hadolint.yaml"), os.path.join(ROOT, "Dockerfile")])
    if result.returncode != 0:
        fail("Dockerfile", "hadolint: " + result.stdout.strip())
    # Our own: the runtime stage runs as the non-root user the pods demand, starts the binary the
    # build stage made, and installs the run-time half of every -dev package the build linked.
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    if len(stages) < 2:
        fail("Dockerfile", "not multi-stage")
        return
    build, runtime = stages[0], stages[-1]
    runtime_user = re.findall(r"^USER (\d+)", runtime, flags=re.M)
    if not runtime_user or runtime_user[-1] != "10001":
        fail("Dockerfile", "the runtime stage does not end as USER 10001 (the pods' runAsUser)")
    runtime_libs = {"libhiredis-dev": "libhiredis", "libmongoc-dev": "libmongoc-1.0", "libsqlite3-dev": "libsqlite3"}
    for dev, lib in runtime_libs.items():
        if dev in build and lib not in runtime:
            fail("Dockerfile", f"the build links {dev} but the runtime installs no {lib}")
    if "--product flashdeal" not in build or 'ENTRYPOINT ["/usr/local/bin/flashdeal"]' not in runtime:
        fail("Dockerfile", "the runtime does not start the flashdeal product the build stage made")
    if "COPY --from=build /out/FlashDeal_LiveWeb.resources /usr/local/bin/FlashDeal_LiveWeb.resources" not in text:
        fail("Dockerfile", "the runtime lacks the storefront's files beside the binary (FlashDeal_LiveWeb.resources)")


def main():
    binary = sys.argv[1]
    routes = set(re.findall(r'"(/[a-z/]+)"', re.search(
        r"static let routes: Set<String> = \[([^\]]*)\]",
        open(os.path.join(ROOT, "Sources/Live/API/HTTP/ShopRouter.swift")).read()).group(1)))
    custom = schemas()
    rendered = renders(binary)
    for name, docs in rendered.items():
        validate(name, docs, custom)
        configs = policy(name, docs, routes)
        if name == "sweep-job":
            continue
        configuration(name, docs, configs, binary)
        agreement(name, docs, configs)
    analysis_tests(rendered.get("prod", []))
    passed = checkov(rendered)
    hadolint()
    objects = sum(len(d) for d in rendered.values())
    if failures:
        print(f"check-k8s: {len(failures)} problem(s) in {len(rendered)} renderings:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)
    print(f"check-k8s: {', '.join(f'{n} ({len(d)} objects)' for n, d in rendered.items())}: {objects} objects valid "
          f"against Kubernetes {KUBERNETES} and k8s/schemas; our policy and cross-checks hold; checkov {passed} passed "
          f"(skipped: {', '.join(f'{k} {v}' for k, v in CHECKOV_SKIPS.items())}); the canary analysis's queries behave "
          f"under promtool; the Dockerfile passes hadolint")


if __name__ == "__main__":
    main()
