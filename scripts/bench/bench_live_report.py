"""Turns `scripts/bench-live.sh`'s k6 summaries into the bench-live table (and report.json)."""
import json
import os
import sys

out, levels = sys.argv[1], sys.argv[2].split()
cores = os.cpu_count() or 1


def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)


def metric(summary, name, field, default=0.0):
    return summary["metrics"].get(name, {}).get(field, default)


ceiling = load("ceiling.json")
ceiling_rps = metric(ceiling, "http_reqs", "rate")
rows = []
for level in levels:
    s = load(f"level-{level}.json")
    cpu = load(f"cpu-{level}.json")
    rows.append({
        "offered_rps": int(level),
        "achieved_rps": metric(s, "http_reqs", "rate"),
        "p50_ms": metric(s, "http_req_duration", "med"),
        "p95_ms": metric(s, "http_req_duration", "p(95)"),
        "p99_ms": metric(s, "http_req_duration", "p(99)"),
        "fault_rate": metric(s, "flashdeal_faults", "value"),
        "orders_placed": metric(s, "flashdeal_orders_placed", "count"),
        "sold_out_answers": metric(s, "flashdeal_sold_out", "count"),
        "limit_answers": metric(s, "flashdeal_limit_reached", "count"),
        "dropped_iterations": metric(s, "dropped_iterations", "count"),
        "requests": metric(s, "http_reqs", "count"),
        "server_cpu_cores": cpu["cpu"] / cpu["wall"],
    })

bars = {500: 200, 1000: 180, 2000: 150}


def error_share(r):
    """The plan's error rate: faults among the requests sent, plus the iterations k6 could not start
    in time (a request that was offered and never made counts as failed, not as fast)."""
    sent, dropped = r["requests"], r["dropped_iterations"]
    return (r["fault_rate"] * sent + dropped) / (sent + dropped) if sent + dropped else 0.0


for r in rows:
    r["error_share"] = error_share(r)
print(f"GET /health/live ceiling: {ceiling_rps:,.0f} rps (P95 {metric(ceiling, 'http_req_duration', 'p(95)'):.2f} ms), "
      f"k6 and the server sharing {cores} cores")
print(f"{'offered':>8} {'achieved':>9} {'P50 ms':>8} {'P95 ms':>8} {'P99 ms':>8} {'faults':>7} {'placed':>7} {'soldOut':>8} "
      f"{'dropped':>8} {'server CPU':>11} {'of ceiling':>10} {'plan bar':>9}")
for r in rows:
    bar = bars.get(r["offered_rps"])
    verdict = "" if bar is None else ("ok" if r["p95_ms"] <= bar and r["error_share"] <= 0.005 else "MISSED")
    print(f"{r['offered_rps']:>8} {r['achieved_rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} "
          f"{r['fault_rate'] * 100:>6.2f}% {r['orders_placed']:>7.0f} {r['sold_out_answers']:>8.0f} {r['dropped_iterations']:>8.0f} "
          f"{r['server_cpu_cores'] * 100 / cores:>10.1f}% {r['achieved_rps'] / ceiling_rps * 100 if ceiling_rps else 0:>9.1f}% "
          f"{('≤' + str(bar) + ' ' + verdict) if bar else '':>9}")
print("plan bar: P95 within the plan's milestone, and faults plus dropped iterations (requests k6 could not start "
      "in time) at most 0.5% of those offered")
drain = load("drain.json")
print(f"writer: {drain['written']:,} of the {drain['expected']:,} orders k6 was told were placed in MongoDB "
      f"{drain['seconds']:.0f} s after the load stopped" + ("" if drain["written"] >= drain["expected"] else " (INCOMPLETE)"))
with open(os.path.join(out, "report.json"), "w") as f:
    json.dump({"ceiling_rps": ceiling_rps, "cores": cores, "levels": rows, "drain": drain}, f, indent=2, sort_keys=True)
