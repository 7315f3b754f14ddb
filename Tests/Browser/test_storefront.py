"""The storefront and the operator console in a real browser (issue #19): each test drives
Debian's Chromium through Playwright against `flashdeal serve` and could fail on what a buyer or an
operator would see. Screenshots of each state go to the artifacts folder (conftest.py)."""
import re
import time

import pytest
from conftest import BACKENDS, Buyer
from playwright.sync_api import expect

pytestmark = pytest.mark.skipif(BACKENDS, reason="the embedded storefront's suite; the backends run test_backends.py")


def buy(buyer, quantity=1):
    buyer.page.select_option("#quantity", str(quantity))
    buyer.page.click("#buy-button")
    expect(buyer.page.locator("#buy-message")).not_to_be_empty()
    return buyer.page.locator("#buy-message").inner_text()


def test_buying_until_sold_out_is_seen_live_in_another_browser(shop, people):
    deal = shop.deal(stock=3, limit=2)
    alice, bob = people("alice"), people("bob")
    for buyer in (alice, bob):
        buyer.sign_in()
        buyer.open_deal(deal)
    expect(bob.page.locator(".stock-words strong")).to_have_text("3 of 3 left")
    bob.shot("deal-live")
    assert buy(alice, 2).startswith("Reserved 2")
    expect(alice.page.locator("#reservation h2")).to_have_text("Your reservation")
    alice.shot("reservation")
    # Bob's page, never reloaded, shows Alice's purchase arrive by subscription, and says it.
    expect(bob.page.locator(".stock-words strong")).to_have_text("1 of 3 left")
    expect(bob.page.locator("#announcer")).to_have_text("1 left.")
    assert buy(bob).startswith("Reserved 1")
    for buyer in (alice, bob):
        expect(buyer.page.locator(".badge")).to_have_text("Sold out")
        expect(buyer.page.locator("#buy-button")).to_be_disabled()
        expect(buyer.page.locator("#buy-button")).to_have_text("Sold out")
    expect(alice.page.locator("#alerts")).to_have_text("Sold out.")
    alice.shot("deal-sold-out")
    # A third buyer who opened the page before it sold out and tries anyway is told why.
    carol = people("carol")
    carol.sign_in()
    deal2 = shop.deal(stock=1, limit=1)
    carol.open_deal(deal2)
    shop.graphql("mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { __typename } }",
                 {"i": {"dealId": deal2, "quantity": 1, "idempotencyKey": "k"}}, token=shop.token("dave"))
    expect(carol.page.locator(".stock-words strong")).to_have_text("0 of 1 left")


def test_the_limit_has_its_own_message(shop, people):
    deal = shop.deal(stock=10, limit=1)
    alice = people("alice")
    alice.sign_in()
    alice.open_deal(deal)
    assert buy(alice).startswith("Reserved 1")
    message = buy(alice)
    assert message.startswith("Limit reached: at most 1 per buyer"), message
    expect(alice.page.locator("#buy-message")).to_have_attribute("role", "alert")
    alice.shot("limit-reached")


def test_paying_and_cancelling_and_the_orders_page(shop, people):
    deal = shop.deal(stock=5, limit=2)
    alice = people("alice")
    alice.sign_in()
    alice.open_deal(deal)
    buy(alice)
    alice.page.click("#reservation button.pay")
    expect(alice.page.locator("#reservation .message")).to_have_text("Paid. Your order is confirmed.")
    expect(alice.page.locator("#reservation .timeline [aria-current=step]")).to_have_text("Paid")
    alice.shot("paid")
    buy(alice)
    alice.page.click("#reservation button.cancel")
    expect(alice.page.locator("#reservation .message")).to_have_text("Cancelled: the unit is back on sale.")
    expect(alice.page.locator(".stock-words strong")).to_have_text("4 of 5 left")
    alice.page.click("text=All my orders")
    expect(alice.page.locator("h1")).to_have_text("My orders")
    statuses = alice.page.locator(".orders .status").all_inner_texts()
    assert sorted(statuses) == ["Cancelled", "Paid"], statuses
    alice.shot("my-orders")


def test_an_expired_reservation_is_shown_as_it_lapses(shop, people):
    deal = shop.deal(stock=2, limit=1, reservation_ttl=3, payment_window=3)
    alice = people("alice")
    alice.sign_in()
    alice.open_deal(deal)
    buy(alice)
    expect(alice.page.locator("#reservation .deadline")).to_contain_text("Pay within")
    # The server's sweeper lapses it; the order's subscription brings the news.
    expect(alice.page.locator("#reservation .message")).to_have_text("Your reservation expired: the unit went back on sale.", timeout=15_000)
    expect(alice.page.locator("#reservation .order-status")).to_have_text("Expired")
    expect(alice.page.locator(".stock-words strong")).to_have_text("2 of 2 left")
    alice.shot("reservation-expired")


def test_the_waiting_room_position_moves_until_it_is_your_turn(shop, people):
    # One admission every 4 s: the three pages are read after the draw and before the next admission
    # moves the last one up (at one every 2 s a busy CI machine once read them too late). The three
    # sign in and open the deal first, then join one after the other, all before the start (8 s
    # away: signing three browsers in first once took a busy CI machine past a 4-s start).
    deal = shop.deal(stock=10, limit=1, start=False, starts_in=8, admission_rate=0.25)
    buyers = [people(f"q{i}") for i in range(3)]
    for buyer in buyers:
        buyer.sign_in()
        buyer.open_deal(deal)
    for buyer in buyers:
        buyer.page.click("#join-queue")
        expect(buyer.page.locator("#queue-position")).to_contain_text("Your place is drawn when the sale starts")
    buyers[0].shot("queue-joined")
    # The scheduler starts the deal at its time; the draw puts one of them last (number 3).
    positions = {}
    for buyer in buyers:
        expect(buyer.page.locator("#queue-position")).not_to_contain_text("drawn when", timeout=20_000)
    for buyer in buyers:
        text = buyer.page.locator("#queue-position").inner_text()
        positions[buyer.name] = 0 if "your turn" in text else int(re.search(r"number (\d+)", text).group(1))
    last = max(buyers, key=lambda b: positions[b.name])
    assert positions[last.name] >= 2, positions
    last.shot("queue-waiting")
    # Without a reload the last one's place moves up until it is their turn (one every 4 s).
    expect(last.page.locator("#queue-position")).to_contain_text("It's your turn", timeout=20_000)
    assert buy(last).startswith("Reserved 1")
    last.shot("queue-admitted")


def test_the_operator_starts_a_deal_the_buyer_sees_go_live(manual_shop, browser):
    # A shop whose scheduler does not start the deal at its time by itself: the operator does.
    shop = manual_shop
    deal = shop.deal(stock=4, limit=1, start=False)
    alice, operator = Buyer(browser, shop, "alice"), Buyer(browser, shop, "operator")
    alice.sign_in()
    alice.open_deal(deal)
    expect(alice.page.locator(".badge")).to_have_text("Coming soon")
    expect(alice.page.locator("#buy-button")).to_be_disabled()
    operator.sign_in(admin=True)
    operator.page.goto("/admin")
    if not shop.backends:
        operator.page.fill("#operator-name", operator.name)
        operator.page.click("text=Sign in as operator")
    row = operator.page.locator(f"#row-{deal}")
    expect(row).to_contain_text("Coming soon")
    operator.shot("console")
    row.locator(f"text=Start {deal}").click()
    expect(row).to_contain_text("Live now")
    # The buyer's page, never reloaded, goes live and takes the order.
    expect(alice.page.locator(".badge")).to_have_text("Live now")
    expect(alice.page.locator("#buy-button")).to_be_enabled()
    assert buy(alice).startswith("Reserved 1")
    expect(row.locator(".reserved")).to_have_text("1")
    expect(operator.page.locator("#orders-rate")).not_to_have_text("–", timeout=10_000)
    operator.shot("console-live")
    alice.close()
    operator.close()


def tab_to(page, name, limit=60):
    """Presses Tab until the focused element's accessible text contains `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        # Past the last stop focus leaves the page (the body is active) and the next Tab comes back to the first.
        focused = page.evaluate("""() => { const e = document.activeElement;
            return !e || e === document.body ? '' : (e.innerText || e.value || e.getAttribute('aria-label') || ''); }""")
        if name in focused:
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


def test_a_purchase_with_the_keyboard_alone(shop, people):
    deal = shop.deal(stock=3, limit=1)
    alice = people("alice")
    page = alice.page
    page.goto("/")
    page.wait_for_selector(".cards")
    tab_to(page, "Sign in")
    page.keyboard.press("Enter")
    page.wait_for_selector("#signin-name")
    # The sign-in view focuses its heading; the name field is the next stop.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "signin-name"
    page.keyboard.type(alice.name)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#account >> text={alice.name}")
    tab_to(page, f"Test item {deal}")
    # Another buyer's order redraws the card live; the focused link stays focused.
    shop.graphql("mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { __typename } }",
                 {"i": {"dealId": deal, "quantity": 1, "idempotencyKey": "k"}}, token=shop.token("bob"))
    expect(page.locator(f"#card-{deal} .stock-words strong")).to_have_text("2 of 3 left")
    expect(page.locator(f"#title-{deal} a")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_selector("#buy-button")
    tab_to(page, "Buy now")
    page.keyboard.press("Enter")
    expect(page.locator("#reservation h2")).to_be_focused()
    tab_to(page, "Pay")
    page.keyboard.press("Enter")
    expect(page.locator("#reservation .message")).to_have_text("Paid. Your order is confirmed.")
    alice.shot("keyboard-paid")


ACCESSIBILITY = r"""() => {
  const problems = [];
  const name = (el) => (el.getAttribute('aria-label') || (el.getAttribute('aria-labelledby') || '').split(' ').map(id => document.getElementById(id)?.textContent || '').join('') || el.innerText || el.value || el.title || '').trim();
  const visible = (el) => el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });
  if (!document.documentElement.lang) problems.push('html has no lang');
  if (document.querySelectorAll('h1').length !== 1) problems.push(`${document.querySelectorAll('h1').length} h1 elements`);
  let level = 1;
  for (const h of document.querySelectorAll('main h1, main h2, main h3, main h4')) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`heading ${h.tagName} "${h.textContent}" skips a level`);
    level = next;
  }
  for (const el of [...document.querySelectorAll('input, select, textarea')].filter(visible)) {
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`${el.tagName} ${el.name || el.id} has no label`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) if (visible(el) && !name(el)) problems.push(`${el.tagName} without a name`);
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push('img without alt');
  const stray = /\b(null|undefined|NaN|\[object Object\])\b/.exec(document.body.innerText);
  if (stray) problems.push(`stray text on the page: ${stray[0]}`);
  if (!document.querySelector('[aria-live=polite]') || !document.querySelector('[aria-live=assertive]')) problems.push('no live regions');
  // Contrast (WCAG AA): every visible text against the first opaque background behind it.
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3); } return [255, 255, 255]; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el.offsetParent || el.closest('.sr-only')) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    const disabled = el.closest('button:disabled, [aria-disabled=true]');
    if (!disabled && ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} for "${walker.currentNode.textContent.trim().slice(0, 30)}"`);
  }
  if (document.scrollingElement.scrollWidth > window.innerWidth + 1) problems.push(`scrolls sideways: ${document.scrollingElement.scrollWidth} > ${window.innerWidth}`);
  return problems;
}"""


@pytest.mark.parametrize("width", [1024, 320])
def test_every_view_passes_the_accessibility_checks(shop, people, width):
    deal = shop.deal(stock=5, limit=2)
    alice = people("alice", width=width)
    page = alice.page
    views = []
    page.goto("/")
    page.wait_for_selector(".cards")
    views.append("deal list")
    assert page.evaluate(ACCESSIBILITY) == [], "deal list"
    page.goto("/#/signin")
    page.wait_for_selector("#signin-name")
    assert page.evaluate(ACCESSIBILITY) == [], "sign-in"
    alice.sign_in()
    alice.open_deal(deal)
    assert page.evaluate(ACCESSIBILITY) == [], "deal page"
    buy(alice)
    assert page.evaluate(ACCESSIBILITY) == [], "reservation"
    page.goto("/#/orders")
    page.wait_for_selector(".orders")
    assert page.evaluate(ACCESSIBILITY) == [], "my orders"
    alice.shot(f"orders-{width}px")
    page.goto("/admin")
    page.wait_for_selector("#operator-name")
    page.fill("#operator-name", "ops")
    page.click("text=Sign in as operator")
    page.wait_for_selector(f"#row-{deal}")
    assert page.evaluate(ACCESSIBILITY) == [], "console"
    if width == 320:
        page.goto(f"/#/deal/{deal}")
        page.wait_for_selector("#buy-body")
        alice.shot("deal-320px")


def test_the_console_shows_the_simulators_prediction_beside_the_live_numbers(manual_shop, browser):
    shop = manual_shop
    # The deal experiments/smoke.json simulates (the fixture stored that run), the most bought.
    shop.deal(stock=25, limit=2, deal_id="smoke")
    shop.graphql("mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { __typename } }",
                 {"i": {"dealId": "smoke", "quantity": 2, "idempotencyKey": "k"}}, token=shop.token("buyer-smoke"))
    operator = Buyer(browser, shop, "operator")
    operator.sign_in(admin=True)
    operator.page.goto("/admin")
    operator.page.fill("#operator-name", operator.name)
    operator.page.click("text=Sign in as operator")
    expect(operator.page.locator("#prediction-note")).to_contain_text("prediction for smoke: scenario smoke, run 1", timeout=10_000)
    expect(operator.page.locator("#p95 + .predicted")).to_contain_text(re.compile(r"predicted \d+\.\d ms"))
    expect(operator.page.locator("#units-sold + .predicted")).to_contain_text("predicted")
    operator.shot("console-prediction")
    operator.close()
