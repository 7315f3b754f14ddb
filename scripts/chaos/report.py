"""`scripts/chaos.sh`'s report: one row a drill, from its k6 run, its lag samples, its timings and its
audit; `--check` exits 1 when a drill's audit found something the report does not explain."""
import csv
import datetime
import json
import os
import platform
import sys

EXPLAINED = {
    "redis-crash-everysec": "Redis fsyncs its append-only file once a second (`appendfsync everysec`): a crash "
    "of Redis's *host* loses up to a second of acknowledged writes (gate changes, journal entries, orders, claims); "
    "what the relay had already carried to Kafka would show in the audit as Redis behind the log, what it had not "
    "would be lost with Redis. This drill kills the Redis *process*: what it wrote is in the kernel's page cache "
    "and survives, so it shows the restart path, not a host's power loss, which cannot be drilled here. "
    "`appendfsync always` loses nothing either way, at an fsync per write.",
}
NOTES = {
    "api-kill": "`kill -9` of the API process mid-load, restarted after 2 s",
    "writer-kill": "`kill -9` of the writer (relay, consumer, sweeper, reconciler), restarted after 2 s",
    "broker-freeze": "the Kafka broker stopped (`SIGSTOP`) for the fault, then continued",
    "mongo-freeze": "SecantusDB stopped (`SIGSTOP`) for the fault, then continued",
    "consumer-pause": "the writer process stopped (`SIGSTOP`) for the fault, then continued",
    "redis-crash-always": "`kill -9` of Redis with `appendfsync always`, restarted from its append-only file",
    "redis-crash-everysec": "`kill -9` of Redis with `appendfsync everysec`, restarted from its append-only file",
}


# The component each drill takes away, as the simulator models it (docs/scenario.md, `faults`).
COMPONENTS = {
    "api-kill": "api", "writer-kill": "writer", "broker-freeze": "broker", "mongo-freeze": "mongo",
    "consumer-pause": "writer", "redis-crash-always": "redis", "redis-crash-everysec": "redis",
}


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def p95(values):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def window(out, drill, start, end):
    """Requests k6 made between start and end: count, faults (transport errors, non-200 answers and
    GraphQL errors, as k6/lib/shop.js counts them in `flashdeal_faults`), P95 ms, and the time of
    the last fault of the whole run (None when there was none)."""
    durations, count, errors, last_error = [], 0, 0, None
    path = os.path.join(out, f"{drill}-requests.csv")
    if not os.path.exists(path):
        return 0, 0, None, None
    with open(path) as f:
        for row in csv.DictReader(f):
            t = float(row["timestamp"])
            failed = row["metric_name"] == "flashdeal_faults" and float(row["metric_value"]) > 0
            if failed:
                last_error = t
            if not (start <= t <= end):
                continue
            if row["metric_name"] == "http_req_duration":
                durations.append(float(row["metric_value"]))
            elif row["metric_name"] == "http_reqs":
                count += 1
            errors += failed
    return count, errors, p95(durations), last_error


def peaks(out, drill):
    outbox, lag = 0, 0
    path = os.path.join(out, f"{drill}-lag.csv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) == 3:
                    outbox = max(outbox, float(parts[1] or 0))
                    lag = max(lag, float(parts[2] or 0))
    return int(outbox), int(lag)


def backlog(out, drill, start, end):
    """From the samples, as the simulator counts them: the outbox and Kafka lag peaks from the
    fault's start until they drained, and how many seconds after the fault's end both were back to
    their highest level of the 10 s before the fault (None when not, within the samples). A stopped
    or killed process has no reading (the writer's lag while it is down) or an old one (a stopped
    writer's last values until it runs again), so a peak counts where it is read, and drained counts
    from after a real backlog's peaks, not from the first low reading."""
    path = os.path.join(out, f"{drill}-lag.csv")
    samples = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) == 3:
                    samples.append((float(parts[0]), float(parts[1]) if parts[1] else None, float(parts[2]) if parts[2] else None))

    def top(rows, i):
        values = [x for x in rows if x[i] is not None]
        return max(values, key=lambda x: x[i]) if values else None

    before = [x for x in samples if start - 10 <= x[0] < start]
    outbox = (top(before, 1) or (0, 0, 0))[1]
    lag = (top(before, 2) or (0, 0, 0))[2]
    after = [x for x in samples if x[0] >= start]
    if not after:
        return 0, 0, None
    # When the fault built a backlog (a peak of 500 more than twice the level before it, within
    # two minutes of its end): from the later of the two peaks; else from the fault's end. Then the
    # first sample with both readings back to the level before the fault.
    window = [x for x in after if x[0] <= end + 120] or after
    peaked = end
    for i, base in ((1, outbox), (2, lag)):
        peak = top(window, i)
        if peak is not None and peak[i] > 2 * base + 500:
            peaked = max(peaked, peak[0])
    drained_at = next((t for t, o, k in after if t >= peaked and o is not None and k is not None and o <= outbox and k <= lag), None)
    during = [x for x in after if x[0] <= (drained_at if drained_at is not None else float("inf"))]
    return (int((top(during, 1) or (0, 0, 0))[1]), int((top(during, 2) or (0, 0, 0))[2]),
            None if drained_at is None else drained_at - end)


def scenario(out, drill):
    """experiments/chaos.json with the drill's rate, length and fault (its measured start and length)."""
    t = load(os.path.join(out, f"{drill}-times.json"))
    here = os.path.dirname(os.path.abspath(__file__))
    experiments = os.path.join(here, "..", "..", "experiments")
    s = load(os.path.join(experiments, "chaos.json"))
    s["include"] = [os.path.abspath(os.path.join(experiments, i)) for i in s.get("include", [])]
    s["name"] = f"chaos-{drill}"
    s["traffic"]["startRate"] = t["rate"]
    s["traffic"]["stages"] = [{"durationSeconds": t["load_seconds"], "target": t["rate"]}]
    at, length = round(t["fault_start"] - t["load_start"], 3), round(max(0.001, t["fault_end"] - t["fault_start"]), 3)
    s["faults"] = [{"component": COMPONENTS[drill], "atSeconds": at, "durationSeconds": length}]
    if drill == "writer-kill":
        # Killed and started again after the drill's 2 s: the relay runs at once, the consumer
        # only once the group assigns it partitions (the fault's end is its readiness).
        s["faults"] = [{"component": "writer", "atSeconds": at, "durationSeconds": min(length, 2.0)},
                       {"component": "consumer", "atSeconds": at, "durationSeconds": length}]
    return s


def findings(audit):
    if audit is None:
        return None
    return {k: len(audit.get(k, [])) for k in ("lost", "wrongState", "gates", "charges")} | {"replay": audit.get("replay")}


def clean(audit):
    f = findings(audit)
    return f is not None and f["replay"] is None and not any(f[k] for k in ("lost", "wrongState", "gates", "charges"))


args = sys.argv[1:]
if args and args[0] == "--scenario":
    json.dump(scenario(args[1], args[2]), sys.stdout, indent=2)
    print()
    sys.exit(0)
check = args and args[0] == "--check"
if check:
    args = args[1:]
out, drills = args[0], args[1:]

if check:
    failed = [d for d in drills if not clean(load(os.path.join(out, f"{d}-audit.json"))) and d not in EXPLAINED]
    for d in failed:
        print(f"chaos: {d}: the audit found what the report does not explain: {findings(load(os.path.join(out, f'{d}-audit.json')))}")
    sys.exit(1 if failed else 0)

print("# Chaos report\n")
print(f"Generated by `make chaos` ({'`scripts/chaos.sh --short`' if 'short' in out else '`scripts/chaos.sh`'}) on "
      f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, {platform.node()}: {os.cpu_count()} cores, "
      f"{platform.system()} {platform.release()}. Each drill runs the API and the writer as separate processes on "
      "backends of their own started empty (Redis with its append-only file, tansu with memory storage, SecantusDB), "
      "under k6's whole buyer journey (`k6/chaos.js`), then waits until `flashdeal audit` is clean or the drain "
      "limit passes.\n")
print("| drill | fault | load | requests in the fault | faults in the fault | P95 in the fault | faults overall | "
      "last fault after the fault began | audit clean after the load | outbox peak | Kafka lag peak | acknowledged | audit |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

def fault_window(drill):
    """The drill's timings, its fault's start and end, and k6's requests from its start until a
    second after its end (count, faults, P95, last fault)."""
    t = load(os.path.join(out, f"{drill}-times.json"), {})
    start, end = t.get("fault_start", 0), t.get("fault_end", 0)
    return (t, start, end) + window(out, drill, start, end + 1)


for d in drills:
    t, start, end, n, errors, p, last_error = fault_window(d)
    k6 = load(os.path.join(out, f"{d}-k6.json"), {"metrics": {}})
    audit = load(os.path.join(out, f"{d}-audit.json"))
    overall = k6["metrics"].get("flashdeal_faults", {}).get("value", 0) * 100
    recovered = t.get("recovered")
    recovery = f"{recovered - t.get('load_end', end):.0f} s" if recovered else "not within the drain limit"
    errors_until = "none" if last_error is None else f"{last_error - start:.1f} s"
    outbox, lag = peaks(out, d)
    f = findings(audit)
    verdict = "clean" if clean(audit) else (
        "no audit" if f is None else
        (f"replay: {f['replay']}" if f["replay"] else
         ", ".join(f"{v} {k}" for k, v in f.items() if k != "replay" and v)))
    print(f"| {d} | {NOTES.get(d, d)} ({end - start:.0f} s) | {t.get('rate', '?')} visits/s | {n} | "
          f"{errors} ({errors / n * 100 if n else 0:.1f}%) | {'' if p is None else f'{p:.0f} ms'} | {overall:.2f}% | {errors_until} | {recovery} | "
          f"{outbox} | {lag} | {audit.get('acknowledged', 0) if audit else 0} | {verdict} |")
print()
print("Beside the simulator. After each drill `flashdeal simulate` runs `experiments/chaos.json` with the drill's "
      "rate and length and the fault as it happened (the component the drill took away, from its measured start for "
      "its measured length, until the part served again). Faults are counted in the fault and the second after it; "
      "peaks from the fault's start; drained is how long after the fault's end the outbox and the Kafka lag were both "
      "back to their highest level of the 10 s before it (the outbox as the API reads it, the lag from the writer's "
      "/metrics, sampled every second and renewed every one and two, so about ±2 s; a process that is down has no "
      "reading). The writer's drain rate in the scenario was fitted on "
      "the mongo-freeze drill of 2026-12-01; everything else is a prediction.\n")
print("| drill | modelled as | faults in the fault: measured / predicted | outbox peak: measured / predicted | "
      "Kafka lag peak: measured / predicted | drained after the fault: measured / predicted |")
print("|---|---|---|---|---|---|")
for d in drills:
    t, start, end, n, errors, _, _ = fault_window(d)
    predicted = load(os.path.join(out, f"{d}-predicted.json"))
    outbox, lag, measured_drain = backlog(out, d, start, end)
    # The fault that ends last covers the drill (a writer killed: the process, then its consumer).
    f = max((predicted or {}).get("faults") or [None], key=lambda x: 0 if x is None else x["startSeconds"] + x["durationSeconds"])

    def seconds(value):
        return "not in the samples" if value is None else f"{value:.0f} s"

    if f is None:
        row = ["no prediction"] * 4
    else:
        row = [f"{f['errors']} of {f['answered']}", str(f["outboxPeak"]), str(f["kafkaLagPeak"]),
               "not before the run ended" if f.get("drainedAfterSeconds") is None else f"{f['drainedAfterSeconds']:.0f} s"]
    modelled = ", ".join(f"{x['component']} down {x['durationSeconds']:.0f} s" for x in (predicted or {}).get("faults") or []) or "?"
    print(f"| {d} | {modelled} | {errors} of {n} / {row[0]} | {outbox} / {row[1]} | "
          f"{lag} / {row[2]} | {seconds(measured_drain)} / {row[3]} |")
print()
for d in drills:
    if d in EXPLAINED:
        outcome = "clean" if clean(load(os.path.join(out, f"{d}-audit.json"))) else "see the audit column"
        print(f"- **{d}**: {EXPLAINED[d]} This run's audit: {outcome}.")
print("- **The broker's own log.** tansu here keeps its log in memory: a broker *restart* loses every message "
      "not yet consumed, and the outbox entries behind them were already deleted from Redis once the broker "
      "acknowledged them, so such a drill would lose orders on this broker by construction (not run). A replicated "
      "Kafka (`acks=all`, `min.insync.replicas` ≥ 2, three brokers) keeps an acknowledged message through a broker "
      "restart; the freeze drill above is what this machine can show honestly.")
print("- **What the audit checks.** The event store (MongoDB) replays through the Domain's projection without a gap "
      "or an illegal transition; every deal's gate in Redis equals the replay, with available + reserved + sold = total "
      "and nothing oversold; no order has more than one charged payment and every paid order has its completed "
      "payment; every order k6 was told was placed is in the event store and in MongoDB's orders, equal to its replay, "
      "in a state its answers allow (`flashdeal audit`, `SaleAudit`).")
