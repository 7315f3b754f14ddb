"""Turns `scripts/bench-live.sh`'s k6 summaries into the bench-live table (and report.json)."""
import json
import os
import sys

out, levels = sys.argv[1], sys.argv[2].split()
mixes = sys.argv[3].split() if len(sys.argv) > 3 else ["bench"]
payment_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
durability = sys.argv[5].split() if len(sys.argv) > 5 else []
security_pairs = int(sys.argv[6]) if len(sys.argv) > 6 else 0
observability_pairs = int(sys.argv[7]) if len(sys.argv) > 7 else 0
operations = ["viewDeal", "placeOrder", "orderStatus", "payOrder", "cancelOrder"]
cores = os.cpu_count() or 1


def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)


def metric(summary, name, field, default=0.0):
    return summary["metrics"].get(name, {}).get(field, default)


ceiling = load("ceiling.json")
ceiling_rps = metric(ceiling, "http_reqs", "rate")
rows = []
runs = [(mix, level, level if mix == "bench" else f"{mix}-{level}") for mix in mixes for level in levels]
# The durability variants: the journey at the top level once more.
runs += [(f"journey+{variant}", levels[-1], f"journey+{variant}-{levels[-1]}") for variant in durability]
# The security pairs: the journey at the top level with authentication and rate limits on and off.
runs += [(f"journey~{state}{pair}", levels[-1], f"journey~{state}{pair}-{levels[-1]}")
         for pair in range(1, security_pairs + 1) for state in ("on", "off")]
# The observability pairs: tracing (1% sampled, exported) and access logs on and off.
runs += [(f"journey~{state}{pair}", levels[-1], f"journey~{state}{pair}-{levels[-1]}")
         for pair in range(1, observability_pairs + 1) for state in ("traced", "plain")]
for mix, level, name in runs:
        s = load(f"level-{name}.json")
        cpu = load(f"cpu-{name}.json")
        rows.append({
            "mix": mix,
            "offered_rps": int(level),
            "achieved_rps": metric(s, "http_reqs", "rate"),
            "p50_ms": metric(s, "http_req_duration", "med"),
            "p95_ms": metric(s, "http_req_duration", "p(95)"),
            "p99_ms": metric(s, "http_req_duration", "p(99)"),
            "fault_rate": metric(s, "flashdeal_faults", "value"),
            "orders_placed": metric(s, "flashdeal_orders_placed", "count"),
            "orders_paid": metric(s, "flashdeal_orders_paid", "count"),
            "sold_out_answers": metric(s, "flashdeal_sold_out", "count"),
            "limit_answers": metric(s, "flashdeal_limit_reached", "count"),
            "dropped_iterations": metric(s, "dropped_iterations", "count"),
            "requests": metric(s, "http_reqs", "count"),
            "server_cpu_cores": cpu["cpu"] / cpu["wall"],
            "server_cpu_ms_per_request": cpu["cpu"] * 1000 / max(1, metric(s, "http_reqs", "count")),
            "api_rss_mib": cpu.get("rss_mib", 0.0),
            "api_peak_rss_mib": cpu.get("peak_rss_mib", 0.0),
            "writer_peak_rss_mib": cpu.get("writer_peak_rss_mib", 0.0),
            "operations": {
                op: {
                    "p95_ms": metric(s, f"http_req_duration{{operation:{op}}}", "p(95)", None),
                    "p99_ms": metric(s, f"http_req_duration{{operation:{op}}}", "p(99)", None),
                    "fault_rate": metric(s, f"flashdeal_faults{{operation:{op}}}", "value", None),
                }
                for op in operations
                if f"http_req_duration{{operation:{op}}}" in s["metrics"]
            },
        })

bars = {500: 200, 1000: 180, 2000: 150}


def error_share(r):
    """The plan's error rate: faults among the requests sent, plus the iterations k6 could not start
    in time (a request that was offered and never made counts as failed, not as fast)."""
    sent, dropped = r["requests"], r["dropped_iterations"]
    return (r["fault_rate"] * sent + dropped) / (sent + dropped) if sent + dropped else 0.0


for r in rows:
    r["error_share"] = error_share(r)
placement_path = os.path.join(out, "placement.txt")
placement = open(placement_path).read().strip() if os.path.exists(placement_path) else "shared: every process on every core"
print(f"placement: {placement}")
print(f"GET /health/live ceiling: {ceiling_rps:,.0f} rps (P95 {metric(ceiling, 'http_req_duration', 'p(95)'):.2f} ms), "
      + (f"k6 and the server on a core each of {cores}" if placement.startswith("split") else f"k6 and the server sharing {cores} cores"))
titles = {
    "journey": f" (whole journey; payment provider {payment_ms:.0f} ms; Redis appendfsync everysec)",
    "bench": " (placeOrder and deal reads)",
    "journey+always": " (the journey with Redis appendfsync always: an fsync before each reply; the price of a"
                      " stronger setting than the default, judged by the same bars)",
    "journey+replica": " (the journey with every Redis write acknowledged by a replica, WAIT 1; the price of a"
                       " stronger setting than the default, judged by the same bars)",
}
for mix in mixes + [f"journey+{variant}" for variant in durability]:
    print(f"mix: {mix}" + titles.get(mix, ""))
    print(f"{'offered':>8} {'achieved':>9} {'P50 ms':>8} {'P95 ms':>8} {'P99 ms':>8} {'faults':>7} {'placed':>7} {'paid':>6} {'soldOut':>8} "
          f"{'dropped':>8} {'server CPU':>11} {'ms CPU/req':>10} {'RSS MiB':>8} {'of ceiling':>10} {'plan bar':>9}")
    for r in (r for r in rows if r["mix"] == mix):
        bar = bars.get(r["offered_rps"])
        ops_ok = all(
            (o["p95_ms"] is None or o["p95_ms"] <= (payment_ms + 25 if op == "payOrder" else bar or 150))
            and (o["fault_rate"] is None or o["fault_rate"] <= 0.005)
            for op, o in r["operations"].items())
        verdict = "" if bar is None else ("ok" if r["p95_ms"] <= bar and r["error_share"] <= 0.005 and ops_ok else "MISSED")
        print(f"{r['offered_rps']:>8} {r['achieved_rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['fault_rate'] * 100:>6.2f}% {r['orders_placed']:>7.0f} {r['orders_paid']:>6.0f} {r['sold_out_answers']:>8.0f} "
              f"{r['dropped_iterations']:>8.0f} {r['server_cpu_cores'] * 100 / cores:>10.1f}% {r['server_cpu_ms_per_request']:>10.3f} "
              f"{r['api_peak_rss_mib']:>8.0f} "
              f"{r['achieved_rps'] / ceiling_rps * 100 if ceiling_rps else 0:>9.1f}% {('≤' + str(bar) + ' ' + verdict) if bar else '':>9}")
        for op, o in r["operations"].items():
            faults = "" if o["fault_rate"] is None else f", faults {o['fault_rate'] * 100:.2f}%"
            print(f"{'':>8}   {op:<12} P95 {o['p95_ms']:>8.2f} ms  P99 {o['p99_ms']:>8.2f} ms{faults}")
def pairs_report(title, what, on, off, count, limit):
    """Alternated runs of the journey at the top level with something on and off: the server's CPU
    per request, each pair and overall; within `limit` (a ratio) and the plan's P95 with it on."""
    print(f"{title}: the journey at {levels[-1]} rps with {what} on and off, alternately (on, off, off, on, ...), server CPU per request")
    print(f"{'pair':>5} {'on ms/req':>10} {'off ms/req':>11} {'on/off':>7} {'P95 on':>7} {'P95 off':>8} {'pay P95 on':>11} {'pay P95 off':>12}")
    by_mix = {r["mix"]: r for r in rows}
    pairs = [(by_mix[f"journey~{on}{p}"], by_mix[f"journey~{off}{p}"]) for p in range(1, count + 1)]
    for p, (a, b) in enumerate(pairs, start=1):
        pay = lambda r: (r["operations"].get("payOrder") or {}).get("p95_ms") or 0.0
        print(f"{p:>5} {a['server_cpu_ms_per_request']:>10.3f} {b['server_cpu_ms_per_request']:>11.3f} "
              f"{a['server_cpu_ms_per_request'] / b['server_cpu_ms_per_request']:>7.3f} {a['p95_ms']:>7.1f} {b['p95_ms']:>8.1f} "
              f"{pay(a):>11.1f} {pay(b):>12.1f}")
    ratio = sum(a["server_cpu_ms_per_request"] for a, _ in pairs) / sum(b["server_cpu_ms_per_request"] for _, b in pairs)
    bar = bars.get(int(levels[-1]), 150)
    within = ratio <= limit and all(a["p95_ms"] <= bar for a, _ in pairs)
    print(f"{title} costs {(ratio - 1) * 100:+.1f}% CPU per request (bar: within {(limit - 1) * 100:.0f}%, and P95 with it on within {bar} ms): "
          + ("ok" if within else "MISSED"))
    return {"cpu_ratio": ratio, "within_bar": within}


security = pairs_report("security", "authentication and rate limits", "on", "off", security_pairs, 1.10) if security_pairs else None
observability = pairs_report("observability", "tracing (1% sampled, exported over OTLP) and metrics", "traced", "plain",
                             observability_pairs, 1.05) if observability_pairs else None
print("plan bar: P95 within the plan's milestone, and faults plus dropped iterations (requests k6 could not start "
      "in time) at most 0.5% of those offered; for the journey also every operation's P95 within it (payOrder within "
      "the provider's latency + 25 ms) and its faults at most 0.5%")
print(f"memory: API peak resident {max(r['api_peak_rss_mib'] for r in rows):.0f} MiB, writer peak resident "
      f"{max(r['writer_peak_rss_mib'] for r in rows):.0f} MiB (VmHWM; what k8s/ sizes its requests and limits from)")
drain = load("drain.json")


def drain_verdict(drain):
    """Nothing when every order is in; otherwise whether the writer was still writing at the end of
    the wait (and how long the rest would take at that rate) or had stopped."""
    if drain["written"] >= drain["expected"]:
        return ""
    rate = drain.get("recent_rate")
    if not rate and drain["seconds"] < 60:
        return (f" (INCOMPLETE: none written in a wait of {drain['seconds']:.0f} s, too short to tell a writer between"
                " batches from one that stopped)")
    if not rate:
        return " (INCOMPLETE: none written in the wait's last minute: the writer stopped)"
    return (f" (INCOMPLETE: still writing {rate:,.0f} orders a second at the end of the wait; the rest at that rate "
            f"in about {(drain['expected'] - drain['written']) / rate:,.0f} s more; FLASHDEAL_BENCH_DRAIN_LIMIT waits longer)")
print(f"writer: {drain['written']:,} of the {drain['expected']:,} orders k6 was told were placed in MongoDB "
      f"{drain['seconds']:.0f} s after the load stopped" + drain_verdict(drain))
with open(os.path.join(out, "report.json"), "w") as f:
    json.dump({"placement": placement, "ceiling_rps": ceiling_rps, "cores": cores, "payment_ms": payment_ms, "levels": rows, "drain": drain, "security": security, "observability": observability}, f, indent=2, sort_keys=True)
