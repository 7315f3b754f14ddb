"""The reference model of `make bench`, in SimPy 4, for a CPU-time comparison with Flash Deal's
engine: Poisson arrivals (rate 1/ms) into an M/M/8 stage at utilisation 0.9 (mean service 7.2 ms),
then a single-server stage (mean service 0.5 ms) with 20 waiting places that drops arrivals
finding them full (like Redis behind a bounded queue). Prints one JSON line."""
import json
import random
import sys
import time

import simpy

CUSTOMERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 1
MEAN_GAP, MEAN_S1, MEAN_S2, SERVERS, LIMIT = 1.0, 7.2, 0.5, 8, 20

stats = {"wait1": 0.0, "n1": 0, "wait2": 0.0, "n2": 0, "dropped": 0}


def customer(env, stage1, stage2, rng):
    arrived = env.now
    with stage1.request() as req:
        yield req
        stats["wait1"] += env.now - arrived
        stats["n1"] += 1
        yield env.timeout(rng.expovariate(1 / MEAN_S1))
    if len(stage2.queue) >= LIMIT and stage2.count >= 1:
        stats["dropped"] += 1
        return
    arrived = env.now
    with stage2.request() as req:
        yield req
        stats["wait2"] += env.now - arrived
        stats["n2"] += 1
        yield env.timeout(rng.expovariate(1 / MEAN_S2))


def source(env, stage1, stage2, rng):
    for _ in range(CUSTOMERS):
        yield env.timeout(rng.expovariate(1 / MEAN_GAP))
        env.process(customer(env, stage1, stage2, rng))


def main():
    rng = random.Random(SEED)
    env = simpy.Environment()
    stage1 = simpy.Resource(env, capacity=SERVERS)
    stage2 = simpy.Resource(env, capacity=1)
    start = time.process_time()
    env.process(source(env, stage1, stage2, rng))
    env.run()
    cpu = time.process_time() - start
    print(json.dumps({
        "engine": "SimPy " + simpy.__version__,
        "customers": CUSTOMERS,
        "cpuSeconds": cpu,
        "meanWait1Ms": stats["wait1"] / stats["n1"],
        "meanWait2Ms": stats["wait2"] / max(1, stats["n2"]),
        "dropRate2": stats["dropped"] / stats["n1"],
    }))


if __name__ == "__main__":
    main()
