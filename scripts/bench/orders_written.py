"""Waits until MongoDB's `orders` holds at least EXPECTED orders (every order k6 was told was placed),
or LIMIT seconds pass; prints {"expected", "written", "seconds"} as JSON. bench-live runs it when the
load stops: the writer tier ran on what CPU the request path left, and this is how long it takes to
catch up. Usage: orders_written.py MONGO_URI EXPECTED LIMIT_SECONDS"""
import json
import sys
import time

from pymongo import MongoClient

uri, expected, limit = sys.argv[1], int(float(sys.argv[2])), float(sys.argv[3])
orders = MongoClient(uri, serverSelectionTimeoutMS=5000).get_default_database()["orders"]
start = time.monotonic()
while True:
    written = orders.count_documents({})
    waited = time.monotonic() - start
    if written >= expected or waited > limit:
        break
    time.sleep(1)
print(json.dumps({"expected": expected, "written": written, "seconds": round(waited, 1)}))
