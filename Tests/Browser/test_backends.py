"""One journey in the browser against `flashdeal serve` on the real backends (Redis, Kafka,
MongoDB): signed in with a token the identity provider (here, the test) issued, a purchase paid,
the stock seen live by a second buyer, the order in the buyer's list."""
import json
import urllib.error
import urllib.request

import pytest
from conftest import BACKENDS
from playwright.sync_api import expect

pytestmark = pytest.mark.skipif(not BACKENDS, reason="needs FLASHDEAL_BROWSER_BACKENDS=1 and the backends")


def test_a_purchase_on_the_backends(shop, people):
    deal = shop.deal(stock=2, limit=1)
    alice, bob = people("alice"), people("bob")
    for buyer in (alice, bob):
        buyer.sign_in()
        expect(buyer.page.locator("#account")).to_contain_text(buyer.name)
        buyer.open_deal(deal)
    alice.page.click("#buy-button")
    expect(alice.page.locator("#buy-message")).to_contain_text("Reserved 1")
    expect(bob.page.locator(".stock-words strong")).to_have_text("1 of 2 left")
    alice.page.click("#reservation button.pay")
    expect(alice.page.locator("#reservation .message")).to_have_text("Paid. Your order is confirmed.")
    alice.page.goto("/#/orders")
    expect(alice.page.locator(".orders .status")).to_have_text(["Paid"])
    alice.shot("backends-orders")


def test_a_shop_with_its_own_secret_has_no_demo_sign_in(shop):
    request = urllib.request.Request(f"{shop.url}/auth/demo", data=json.dumps({"user": "mallory", "admin": True}).encode(), method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("the shop on the backends signed a demo token")
    except urllib.error.HTTPError as error:
        assert error.code == 404
