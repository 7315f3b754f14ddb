"""The storefront's and the operator console's browser tests (Tests/Browser, run by scripts/browser.sh).

Each session starts `flashdeal serve` (the debug build) on a port of its own: in the embedded mode
by default, or on the real backends when FLASHDEAL_BROWSER_BACKENDS=1 (the URLs from
.run/backends.env, a secret of the test's own, tokens signed here). Chromium is Debian's
(/usr/bin/chromium), driven by Playwright from PyPI, headless. Screenshots of every state go to
FLASHDEAL_BROWSER_ARTIFACTS (.build/browser by default); docs/design uses copies of them.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("FLASHDEAL_BROWSER_ARTIFACTS", ROOT / ".build" / "browser"))
BACKENDS = os.environ.get("FLASHDEAL_BROWSER_BACKENDS") == "1"
SECRET = "browser-tests-" + uuid.uuid4().hex


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(user, admin=False, secret=SECRET):
    """An HS256 token for `user`, as an identity provider in front of the shop would issue."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": user, "exp": int(time.time()) + 3600}
    if admin:
        claims["roles"] = ["admin"]
    payload = b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


class Shop:
    """A running `flashdeal serve`, and GraphQL calls to it as its operator."""

    def __init__(self, url, process, log, backends):
        self.url = url
        self.process = process
        self.log = log
        self.backends = backends
        self.admin = self.token("operator", admin=True)

    def token(self, user, admin=False):
        if self.backends:
            return sign(user, admin)
        request = urllib.request.Request(
            f"{self.url}/auth/demo", data=json.dumps({"user": user, "admin": admin}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["token"]

    def graphql(self, query, variables=None, token=None):
        request = urllib.request.Request(
            f"{self.url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token or self.admin}"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert not body.get("errors"), body
        return body["data"]

    def deal(self, stock=3, limit=2, start=True, starts_in=0.0, reservation_ttl=600, payment_window=300, admission_rate=None, deal_id=None):
        """A deal of its own (and its product), started unless `start` is false."""
        deal_id = deal_id or "t-" + uuid.uuid4().hex[:8]
        self.graphql("mutation($i: CreateProductInput!) { createProduct(input: $i) { __typename } }",
                     {"i": {"id": f"p-{deal_id}", "name": f"Test item {deal_id}", "description": "Made by a browser test"}})
        now = time.time()
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"
        deal = {"id": deal_id, "productId": f"p-{deal_id}", "price": 12000, "startsAt": iso(now + starts_in),
                "endsAt": iso(now + starts_in + 3600), "perUserLimit": limit, "stock": stock, "reservationTtlSeconds": reservation_ttl,
                "paymentWindowSeconds": payment_window, "cancelCoolDownSeconds": 0}
        if admission_rate:
            deal["waitingRoomAdmissionRate"] = admission_rate
        result = self.graphql("mutation($i: ScheduleDealInput!) { scheduleDeal(input: $i) { __typename ... on InvalidInput { field message } } }",
                              {"i": deal})["scheduleDeal"]
        assert result["__typename"] == "DealUpdated", result
        if start:
            assert self.graphql("mutation($id: ID!) { startDeal(id: $id) { __typename } }", {"id": deal_id})["startDeal"]["__typename"] == "DealUpdated"
        return deal_id


def serve(name, sweep="200ms", extra=()):
    """Starts `flashdeal serve`; yields a Shop until the session ends."""
    binary = os.environ.get("FLASHDEAL_BIN", str(ROOT / ".build" / "debug" / "flashdeal"))
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"server-{name}.log", "w")
    arguments = [binary, "serve", "--port", str(port), "--writer-sweep-interval", sweep, "--limits-address-rate", "0", *extra]
    environment = dict(os.environ)
    if BACKENDS:
        tag = "browser" + uuid.uuid4().hex[:8]
        environment["FLASHDEAL_AUTH_SECRET"] = SECRET
        mongo = os.environ["FLASHDEAL_MONGO_URI"].rsplit("/", 1)[0]
        arguments += ["--redis-key-prefix", tag, "--kafka-topic-prefix", tag, "--mongo-uri", f"{mongo}/{tag}"]
    else:
        for name in ("FLASHDEAL_REDIS_URL", "FLASHDEAL_KAFKA_BROKERS", "FLASHDEAL_MONGO_URI"):
            environment.pop(name, None)
    process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            raise RuntimeError(f"flashdeal serve did not come up; see {log.name}")
        time.sleep(0.3)
    yield Shop(url, process, log, BACKENDS)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def shop():
    """The shop the tests share; its scheduler and sweeper run every 200 ms."""
    yield from serve("backends" if BACKENDS else "embedded")


@pytest.fixture(scope="session")
def manual_shop():
    """A shop whose scheduler runs hourly (a deal due now waits for its operator's start), with a
    results store holding the simulator's run of experiments/smoke.json (deal `smoke`)."""
    binary = os.environ.get("FLASHDEAL_BIN", str(ROOT / ".build" / "debug" / "flashdeal"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    store = ARTIFACTS / "predictions.sqlite"
    store.unlink(missing_ok=True)
    subprocess.run([binary, "simulate", "--scenario", "experiments/smoke.json", "--results", str(store)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    yield from serve("manual", sweep="1h", extra=("--api-predictions", str(store)))


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=os.environ.get("FLASHDEAL_CHROMIUM", "/usr/bin/chromium"), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Buyer:
    """One person in a browser context of their own (their own storage, so their own sign-in)."""

    def __init__(self, browser, shop, name, width=1024):
        self.shop = shop
        self.name = name
        self.context = browser.new_context(viewport={"width": width, "height": 800}, base_url=shop.url)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def sign_in(self, admin=False):
        """Through the page's own form (embedded), or with a token handed over in the address."""
        if self.shop.backends:
            self.page.goto(f"/{'admin' if admin else ''}#token={self.shop.token(self.name, admin)}")
            return
        self.page.goto("/#/signin")
        self.page.fill("#signin-name", self.name)
        self.page.click("form.signin button[type=submit]")
        self.page.wait_for_selector(f"#account >> text={self.name}")

    def open_deal(self, deal_id):
        self.page.goto(f"/#/deal/{deal_id}")
        self.page.wait_for_selector("#buy-body")

    def shot(self, name):
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        assert not [e for e in self.errors if "WebSocket" not in e], f"{self.name}'s page logged errors: {self.errors}"
        self.context.close()


@pytest.fixture
def people(browser, shop):
    made = []

    def person(name, width=1024):
        buyer = Buyer(browser, shop, f"{name}-{uuid.uuid4().hex[:6]}", width)
        made.append(buyer)
        return buyer

    yield person
    for buyer in made:
        buyer.close()
