"""`make test`'s fuzzing: schemathesis generates GraphQL documents and variables from the served
schema (docs/schema.graphql) for every query and mutation, and sends them to a running
`flashdeal serve` as a buyer. Whatever the input: no 5xx, an answer that is JSON, no fault leaked as
`internal error`, and, once it is over, no deal oversold (test_no_deal_was_oversold).

Bounds: FLASHDEAL_FUZZ_EXAMPLES per operation (default 60), and the run's own time limit (scripts/fuzz.sh).
Environment: FLASHDEAL_FUZZ_URL (the server's /graphql), FLASHDEAL_FUZZ_TOKENS (buyers' bearer
tokens, comma-separated), FLASHDEAL_FUZZ_STOCK (deal id=units it was seeded with, comma-separated).
"""
import json
import os
import urllib.request

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

URL = os.environ["FLASHDEAL_FUZZ_URL"]
TOKENS = os.environ["FLASHDEAL_FUZZ_TOKENS"].split(",")
TOKEN = TOKENS[0]
EXAMPLES = int(os.environ.get("FLASHDEAL_FUZZ_EXAMPLES", "60"))
KNOWN_IDS = [item.split("=")[0] for item in os.environ["FLASHDEAL_FUZZ_STOCK"].split(",")] + ["fuzz-product"]

# IDs: often the seeded deal and product, so orders are placed, paid and cancelled; otherwise anything.
known = st.sampled_from(KNOWN_IDS)
schemathesis.graphql.scalar("ID", st.one_of(known, known, known, st.text(max_size=40)).map(nodes.String))
# Small quantities and well-formed keys often enough that orders go through; anything otherwise.
small = st.sampled_from([1, 1, 2, 0, -1])
schemathesis.graphql.scalar("Int", st.one_of(small, small, small, st.integers(min_value=-(2**31), max_value=2**31 - 1)).map(nodes.Int))
schemathesis.graphql.scalar("String", (st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True) | st.text(max_size=60)).map(nodes.String))

schema = schemathesis.graphql.from_path(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "schema.graphql"))
schema.config.update(base_url=URL)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_whatever_the_input_the_server_answers_cleanly(case):
    # One of several buyers, by the case's own content (deterministic for a given case).
    token = TOKENS[hash(repr(case.body)) % len(TOKENS)]
    response = case.call(headers={"Authorization": token})
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    body = response.json()
    assert isinstance(body, dict), body
    for error in body.get("errors") or []:
        assert not str(error.get("message", "")).startswith("internal error"), error


def test_no_deal_was_oversold():
    """Every deal the server was seeded with still holds: available + reserved + sold = its stock
    (the fuzzing buyer is no admin: nothing restocks), none negative."""
    stock = dict(item.split("=") for item in os.environ["FLASHDEAL_FUZZ_STOCK"].split(","))
    for deal, units in stock.items():
        body = json.dumps({"query": "query($id: ID!) { deal(id: $id) { available reserved sold } }", "variables": {"id": deal}}).encode()
        request = urllib.request.Request(URL, data=body, headers={"Content-Type": "application/json", "Authorization": TOKEN})
        with urllib.request.urlopen(request, timeout=10) as response:
            counts = json.load(response)["data"]["deal"]
        assert min(counts.values()) >= 0, (deal, counts)
        assert counts["available"] + counts["reserved"] + counts["sold"] == int(units), (deal, counts, units)
