"""Waits until MongoDB's `orders` holds every order k6 was told was placed (`flashdeal_orders_placed`
summed over the k6 summaries given), or LIMIT seconds pass; prints {"expected", "written", "seconds",
"recent_rate"} as JSON, the last the orders written a second over the wait's last minute (or all of
it when shorter): what tells a writer still catching up from one that stopped. bench-live runs it
when the load stops: the writer tier ran on what CPU the request path left, and this is how long it
takes to catch up. Usage: orders_written.py MONGO_URI LIMIT_SECONDS SUMMARY..."""
import json
import sys
import time

from pymongo import MongoClient
from pymongo.errors import PyMongoError

uri, limit, summaries = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
expected = 0
for path in summaries:
    with open(path) as f:
        expected += int(json.load(f)["metrics"].get("flashdeal_orders_placed", {}).get("count", 0))
orders = MongoClient(uri, serverSelectionTimeoutMS=5000).get_default_database()["orders"]
start = time.monotonic()
written = 0
samples = []  # (seconds waited, orders written), one a second
while True:
    # A count the database could not answer (busy with the writer's catch-up, a dropped connection)
    # is asked again; only the limit ends the wait.
    try:
        written = orders.count_documents({})
    except PyMongoError as error:
        print(f"orders_written: MongoDB did not count ({type(error).__name__}: {error}); asking again", file=sys.stderr)
    waited = time.monotonic() - start
    samples.append((waited, written))
    if written >= expected or waited > limit:
        break
    time.sleep(1)
window = [s for s in samples if s[0] >= waited - 60]
span = window[-1][0] - window[0][0]
rate = (window[-1][1] - window[0][1]) / span if span > 0 else None
print(json.dumps({"expected": expected, "written": written, "seconds": round(waited, 1),
                  "recent_rate": None if rate is None else round(rate, 1)}))
