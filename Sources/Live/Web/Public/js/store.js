// The storefront (docs/design/storefront.md): the deal list, a deal's page with its countdown,
// live stock, waiting room and buy button, the reservation to pay or cancel, and the buyer's
// orders. Routes live in the address's fragment (`#/deal/<id>`), so the server serves one page.
import { GraphQLClient, GraphQLError } from "./graphql.js";
import { session } from "./session.js";
import { announce, countdown, h, money, newKey, show, span, statusBadge, stockBar, toast } from "./ui.js";

const DEAL = `id status price currency startsAt endsAt perUserLimit reservationCap cancelCoolDownSeconds
  available reserved sold waitingRoom { admissionRate ticketTtlSeconds } product { id name description }`;
const ORDER = `id quantity status createdAt expiresAt paymentDeadline deal { id price currency product { name } }`;
const STANDING = `position queueLength drawn admitted admittedAt admissionTicket`;

const client = new GraphQLClient({ token: () => session.token() });
client.onConnection = (up) => document.body.classList.toggle("offline", !up && client.operations.size > 0);

/** What the current view started (subscriptions, timers): stopped when the view changes. */
let stops = [];
/** Which route is current: a view whose request answers after the buyer moved on draws nothing. */
let generation = 0;
async function load(query, variables) {
  const mine = generation;
  const data = await client.request(query, variables);
  if (mine !== generation) throw new Superseded();
  return data;
}
class Superseded extends Error {}
function onLeave(stop) {
  stops.push(stop);
}
function leave() {
  for (const stop of stops.splice(0)) stop();
}

// ---------------------------------------------------------------------------------------------
// Header and routing

function renderHeader() {
  const user = session.user();
  show(
    "account",
    user
      ? [h("span", { class: "who" }, "Signed in as ", h("strong", {}, user)),
         session.isAdmin() ? h("a", { href: "/admin" }, "Operator console") : null,
         h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")]
      : h("a", { href: `#/signin?next=${encodeURIComponent(location.hash || "#/")}`, class: "button secondary" }, "Sign in"),
  );
}

function signOut() {
  session.signOut();
  client.reconnect();
  renderHeader();
  toast("Signed out.");
  route();
}

async function route() {
  leave();
  generation += 1;
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  const main = document.getElementById("view");
  main.setAttribute("aria-busy", "true");
  try {
    if (parts.length === 0) await dealList();
    else if (parts[0] === "deal" && parts[1]) await dealPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "orders") await ordersPage();
    else if (parts[0] === "order" && parts[1]) await orderPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "signin") signInPage(new URLSearchParams(query).get("next") || "#/");
    else show("view", h("h1", { tabindex: -1 }, "Not found"), h("p", {}, h("a", { href: "#/" }, "See the deals")));
  } catch (error) {
    if (error instanceof Superseded) return;
    show("view", h("h1", { tabindex: -1 }, "Something went wrong"), h("p", { role: "alert" }, error.message),
      h("button", { type: "button", onclick: route }, "Try again"));
  } finally {
    main.removeAttribute("aria-busy");
  }
  // Keyboard and screen-reader users land on the new view's heading.
  main.querySelector("h1")?.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------
// The deal list

async function dealList() {
  const data = await load(`query { deals(first: 20) { edges { node { ${DEAL} } } } }`);
  const deals = data.deals.edges.map((e) => e.node);
  const cards = deals.map((deal) => h("li", { id: `card-${deal.id}` }, dealCard(deal)));
  show("view", h("h1", { tabindex: -1 }, "Today's deals"),
    deals.length ? h("ul", { class: "cards" }, cards) : h("p", {}, "No deals right now: come back soon."));
  // Each card follows its deal live (a socket runs at most 16 operations: the first 12 cards).
  for (const deal of deals.slice(0, 12)) {
    onLeave(client.subscribe(`subscription($id: ID!) { dealUpdates(dealId: $id) { ${DEAL} } }`, { id: deal.id }, {
      next: (data) => updateCard(data.dealUpdates),
    }));
  }
}

function dealCard(deal) {
  return h("article", { class: "card", "aria-labelledby": `title-${deal.id}` },
    h("h2", { id: `title-${deal.id}` }, h("a", { href: `#/deal/${encodeURIComponent(deal.id)}` }, deal.product?.name ?? deal.id)),
    cardDetails(deal));
}

function cardDetails(deal) {
  return [priceLine(deal), clock(deal), stockBar(deal)];
}

function priceLine(deal) {
  return h("p", { class: "meta" }, statusBadge(deal.status), " ", h("span", { class: "price" }, money(deal.price, deal.currency)));
}

/** Redraws what follows a card's title: its link stays in the page, so a keyboard user's focus on it survives the update. */
function updateCard(deal) {
  const title = document.getElementById(`title-${deal.id}`);
  if (!title) return;
  while (title.nextSibling) title.nextSibling.remove();
  title.after(...cardDetails(deal).filter(Boolean));
}

/** "Starts in …" before the start, "Ends in …" while live. */
function clock(deal, onChange = () => {}) {
  // A deal started ahead of its time takes orders only from its start (the Domain's window).
  if (deal.status === "SCHEDULED" || (deal.status === "LIVE" && new Date(deal.startsAt) > Date.now())) return h("p", { class: "clock" }, countdown(deal.startsAt, { prefix: "Starts in ", done: onChange }));
  if (deal.status === "LIVE") return h("p", { class: "clock" }, countdown(deal.endsAt, { prefix: "Ends in ", done: onChange }));
  return null;
}

// ---------------------------------------------------------------------------------------------
// A deal's page

async function dealPage(id) {
  const data = await load(`query($id: ID!) { deal(id: $id) { ${DEAL} } }`, { id });
  if (!data.deal) {
    show("view", h("h1", { tabindex: -1 }, "No such deal"), h("p", {}, h("a", { href: "#/" }, "See the deals")));
    return;
  }
  const page = { deal: data.deal, placing: false, placeKey: null, message: null, standing: null, order: null, blockedUntil: 0 };
  show("view",
    h("p", {}, h("a", { href: "#/" }, "← All deals")),
    h("article", { class: "deal", "aria-labelledby": "deal-title" },
      h("h1", { id: "deal-title", tabindex: -1 }, page.deal.product?.name ?? page.deal.id),
      h("div", { id: "deal-summary" }),
      h("section", { id: "deal-stock", "aria-label": "Stock" }),
      h("section", { id: "buy", "aria-labelledby": "buy-title" }, h("h2", { id: "buy-title" }, "Buy"), h("div", { id: "buy-body" })),
      h("section", { id: "reservation", "aria-live": "polite" })));
  const refresh = () => {
    renderSummary(page);
    show("deal-stock", stockBar(page.deal));
    renderBuy(page);
  };
  refresh();
  let lastSpoken = 0;
  onLeave(client.subscribe(`subscription($id: ID!) { dealUpdates(dealId: $id) { ${DEAL} } }`, { id }, {
    next: (data) => {
      const before = page.deal;
      page.deal = data.dealUpdates;
      if (before.status !== page.deal.status) {
        announce(page.deal.status === "SOLD_OUT" ? "Sold out." : `The deal is now ${page.deal.status.toLowerCase().replace("_", " ")}.`,
          { assertive: page.deal.status === "SOLD_OUT" });
      } else if (before.available !== page.deal.available && Date.now() - lastSpoken > 5000) {
        lastSpoken = Date.now();
        announce(`${page.deal.available} left.`);
      }
      // The buy panel is redrawn only when what it offers changes, so focus stays on its button.
      if (before.status !== page.deal.status) refresh();
      else {
        renderSummary(page);
        show("deal-stock", stockBar(page.deal));
      }
    },
    error: (message) => toast(`Live updates stopped: ${message}`, "error"),
  }));
  if (page.deal.waitingRoom && session.token()) {
    const standing = await load(`query($id: ID!) { waitingRoom(dealId: $id) { ${STANDING} } }`, { id }).catch((error) => {
      if (error instanceof Superseded) throw error;
      return null; // the queue is shown as not joined; joining answers with the standing
    });
    if (standing?.waitingRoom) followQueue(page, standing.waitingRoom);
  }
}

function renderSummary(page) {
  const deal = page.deal;
  show("deal-summary",
    priceLine(deal),
    h("p", {}, deal.product?.description ?? ""),
    clock(deal, () => setTimeout(() => reloadDeal(page), 1000)),
    h("p", { class: "rules" }, `At most ${deal.perUserLimit} per buyer.`,
      deal.waitingRoom ? ` A queue lets buyers in at ${deal.waitingRoom.admissionRate} a second from the start.` : ""));
}

async function reloadDeal(page) {
  const data = await client.request(`query($id: ID!) { deal(id: $id) { ${DEAL} } }`, { id: page.deal.id }).catch(() => null);
  if (data?.deal && document.getElementById("deal-title")) {
    page.deal = data.deal;
    renderSummary(page);
    show("deal-stock", stockBar(page.deal));
    renderBuy(page);
  }
}

/** The buy panel: what the buyer can do now, and the last outcome. */
function renderBuy(page) {
  const deal = page.deal;
  const message = page.message ? h("p", { id: "buy-message", class: `message message-${page.message.kind}`, role: page.message.kind === "error" ? "alert" : "status" }, page.message.text) : h("p", { id: "buy-message", role: "status" });
  if (!session.token()) {
    show("buy-body", h("a", { class: "button", href: `#/signin?next=${encodeURIComponent(location.hash)}` }, "Sign in to buy"), message);
    return;
  }
  const queue = deal.waitingRoom ? queuePanel(page) : null;
  const waiting = deal.waitingRoom && !page.standing?.admitted;
  let label = "Buy now", disabled = false;
  if (deal.status === "SCHEDULED" || new Date(deal.startsAt) > Date.now()) [label, disabled] = ["Not on sale yet", true];
  else if (deal.status === "SOLD_OUT") [label, disabled] = ["Sold out", true];
  else if (deal.status === "ENDED") [label, disabled] = ["Sale ended", true];
  else if (waiting) [label, disabled] = ["Wait for your turn", true];
  else if (page.placing) [label, disabled] = ["Reserving…", true];
  else if (Date.now() < page.blockedUntil) [label, disabled] = ["Try again shortly", true];
  const quantity = h("select", { id: "quantity", name: "quantity", disabled },
    Array.from({ length: Math.max(1, deal.perUserLimit) }, (_, i) => h("option", { value: i + 1 }, i + 1)));
  const button = h("button", { type: "submit", id: "buy-button", class: "buy", disabled, "aria-busy": page.placing ? "true" : null }, label);
  const form = h("form", { class: "buy-form", onsubmit: (event) => { event.preventDefault(); place(page, Number(quantity.value)); } },
    h("label", { for: "quantity" }, "Quantity"), quantity, button);
  show("buy-body", queue, form, message);
}

async function place(page, quantity) {
  page.placing = true;
  page.message = null;
  renderBuy(page);
  // One key per intent: a retry after a failure that left the outcome unknown reuses it.
  page.placeKey ??= newKey("place");
  const input = { dealId: page.deal.id, quantity, idempotencyKey: page.placeKey };
  try {
    if (page.deal.waitingRoom) input.admissionTicket = await freshTicket(page);
    const data = await client.request(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
      __typename
      ... on OrderPlaced { order { ${ORDER} } }
      ... on SoldOut { available }
      ... on PurchaseLimitExceeded { limit remaining }
      ... on CancelCoolDown { retryAfterMs }
      ... on ReservationCapReached { cap }
      ... on AdmissionRequired { reason }
      ... on DealNotActive { status }
      ... on InvalidInput { field message }
      ... on RateLimited { retryAfterMs } } }`, { input });
    page.placeKey = null;
    const result = data.placeOrder;
    page.message = placeMessage(result);
    if (result.__typename === "RateLimited" || result.__typename === "CancelCoolDown") {
      page.blockedUntil = Date.now() + result.retryAfterMs;
      setTimeout(() => document.getElementById("buy-body") && renderBuy(page), result.retryAfterMs + 50);
    }
    if (result.__typename === "OrderPlaced") {
      page.order = result.order;
      showReservation(page, result.order);
    }
  } catch (error) {
    page.message = { kind: "error", text: `${error.message}. Your place is kept: try again.` };
    if (error instanceof GraphQLError && error.retryAfterSeconds) page.blockedUntil = Date.now() + error.retryAfterSeconds * 1000;
  } finally {
    page.placing = false;
    renderBuy(page);
    if (page.message) announce(page.message.text, { assertive: page.message.kind === "error" });
  }
}

function placeMessage(result) {
  switch (result.__typename) {
    case "OrderPlaced": return { kind: "ok", text: `Reserved ${result.order.quantity}: pay within ${span(deadline(result.order) - Date.now())} to keep it.` };
    case "SoldOut": return { kind: "error", text: "Sold out: every unit is taken." };
    case "PurchaseLimitExceeded": return { kind: "error", text: `Limit reached: at most ${result.limit} per buyer, and you can take ${result.remaining} more.` };
    case "CancelCoolDown": return { kind: "error", text: `You cancelled a moment ago: you can reserve again in ${span(result.retryAfterMs)}.` };
    case "ReservationCapReached": return { kind: "error", text: `You have opened ${result.cap} reservations of this deal without paying: no more.` };
    case "AdmissionRequired": return { kind: "error", text: `Wait for your turn in the queue (${result.reason}).` };
    case "DealNotActive": return { kind: "error", text: `This deal is not on sale (${result.status.toLowerCase().replace("_", " ")}).` };
    case "DealNotFound": return { kind: "error", text: "This deal does not exist." };
    case "InvalidInput": return { kind: "error", text: `${result.field}: ${result.message}` };
    case "RateLimited": return { kind: "error", text: `Too many tries: wait ${span(result.retryAfterMs)}.` };
    default: return { kind: "error", text: `Unexpected answer: ${result.__typename}` };
  }
}

// ---------------------------------------------------------------------------------------------
// The waiting room

function queuePanel(page) {
  const standing = page.standing;
  if (!standing) {
    return h("div", { class: "queue" },
      h("p", {}, page.deal.status === "SCHEDULED" ? "Join now: when the sale starts, everyone who joined before it is put in a random order." : "Join the queue to buy."),
      h("button", { type: "button", id: "join-queue", onclick: () => join(page) }, "Join the queue"));
  }
  let text;
  if (standing.admitted) text = "It's your turn: you can buy now.";
  else if (!standing.drawn) text = `You're in the queue (${standing.queueLength} joined). Your place is drawn when the sale starts.`;
  else text = `You are number ${standing.position} in the queue (${standing.queueLength} waiting). Your turn comes in about ${span(new Date(standing.admittedAt).getTime() - Date.now())}.`;
  return h("div", { class: "queue", id: "queue-position" }, h("p", {}, text));
}

async function join(page) {
  try {
    const data = await client.request(`mutation($id: ID!) { joinWaitingRoom(dealId: $id) { __typename ... on WaitingRoomStanding { ${STANDING} } } }`, { id: page.deal.id });
    if (data.joinWaitingRoom.__typename !== "WaitingRoomStanding") throw new Error(`cannot join (${data.joinWaitingRoom.__typename})`);
    followQueue(page, data.joinWaitingRoom);
    document.getElementById("queue-position")?.setAttribute("tabindex", "-1");
    document.getElementById("queue-position")?.focus();
  } catch (error) {
    toast(error.message, "error");
  }
}

function followQueue(page, standing) {
  page.standing = standing;
  renderBuy(page);
  let lastSpoken = 0;
  onLeave(client.subscribe(`subscription($id: ID!) { waitingRoomUpdates(dealId: $id) { ${STANDING} } }`, { id: page.deal.id }, {
    next: (data) => {
      const was = page.standing;
      page.standing = data.waitingRoomUpdates;
      if (page.standing.admitted && !was?.admitted) announce("It's your turn: you can buy now.", { assertive: true });
      else if (Date.now() - lastSpoken > 5000) {
        lastSpoken = Date.now();
        announce(`You are number ${page.standing.position} in the queue.`);
      }
      if (document.getElementById("buy-body") && !page.placing) renderBuy(page);
    },
  }));
}

/** A ticket read now (each read is signed afresh, good for a minute). */
async function freshTicket(page) {
  const data = await client.request(`query($id: ID!) { waitingRoom(dealId: $id) { admitted admissionTicket } }`, { id: page.deal.id });
  return data.waitingRoom?.admissionTicket ?? null;
}

// ---------------------------------------------------------------------------------------------
// A reservation and an order: pay, cancel, follow

function deadline(order) {
  return Math.min(new Date(order.expiresAt).getTime(), new Date(order.paymentDeadline).getTime());
}

/** The reservation panel on a deal's page, following the order live. */
function showReservation(page, order) {
  const panel = orderPanel(order, { headingLevel: "h2", onChange: (changed) => (page.order = changed) });
  show("reservation", panel);
  panel.querySelector("h2")?.focus();
}

/**
 * An order's panel: its status and timeline, the pay and cancel buttons while reserved, the
 * payment deadline's countdown, the last outcome; the order followed by subscription.
 */
function orderPanel(initial, { headingLevel = "h2", onChange = () => {} } = {}) {
  const state = { order: initial, busy: null, message: null, payKey: null };
  const panel = h("div", { class: "order-panel", id: `order-${initial.id}` });
  const render = () => {
    const order = state.order;
    const reserved = order.status === "RESERVED";
    const total = order.deal ? money(order.deal.price * order.quantity, order.deal.currency) : "";
    panel.replaceChildren(...[
      h(headingLevel, { tabindex: -1 }, reserved ? "Your reservation" : "Your order"),
      h("p", { class: "meta" }, `${order.quantity} × ${order.deal?.product?.name ?? "item"} · ${total} · `, h("strong", { class: "order-status" }, statusWords[order.status])),
      timeline(order),
      reserved ? h("p", { class: "deadline" }, countdown(deadline(order), { prefix: "Pay within ", done: () => announce("The payment window has closed.") })) : null,
      reserved ? h("div", { class: "actions" },
        h("button", { type: "button", class: "pay", disabled: !!state.busy, "aria-busy": state.busy === "pay" ? "true" : null, onclick: pay }, state.busy === "pay" ? "Paying…" : `Pay ${total}`),
        h("button", { type: "button", class: "secondary cancel", disabled: !!state.busy, onclick: cancel }, state.busy === "cancel" ? "Cancelling…" : "Cancel")) : null,
      state.message ? h("p", { class: `message message-${state.message.kind}`, role: state.message.kind === "error" ? "alert" : "status" }, state.message.text) : null,
      h("p", {}, h("a", { href: `#/order/${encodeURIComponent(order.id)}` }, "Order details"), " · ", h("a", { href: "#/orders" }, "All my orders")),
    ].filter(Boolean));
  };
  const update = (order, message) => {
    state.order = order;
    if (message) state.message = message;
    onChange(order);
    render();
    if (message) announce(message.text, { assertive: message.kind === "error" });
  };
  /** One action on the order: its buttons busy while it runs, then the answer's message, or the failure's with `advice`. */
  async function act(busy, send, messages, advice) {
    state.busy = busy;
    state.message = null;
    render();
    let order = state.order, message;
    try {
      const r = await send();
      order = r.order ?? state.order;
      message = messages(r)[r.__typename] ?? { kind: "error", text: r.__typename };
    } catch (error) {
      message = { kind: "error", text: `${error.message}. ${advice}` };
    }
    state.busy = null;
    update(order, message);
  }
  function pay() {
    state.payKey ??= newKey("pay");
    return act("pay", async () => {
      const data = await client.request(`mutation($input: PayOrderInput!) { payOrder(input: $input) {
        __typename
        ... on OrderPaid { order { ${ORDER} } }
        ... on ReservationExpired { order { ${ORDER} } refunded }
        ... on PaymentDeclined { order { ${ORDER} } reason }
        ... on PaymentWindowClosed { order { ${ORDER} } }
        ... on OrderNotPayable { order { ${ORDER} } refunded }
        ... on RateLimited { retryAfterMs } } }`, { input: { orderId: state.order.id, idempotencyKey: state.payKey } });
      state.payKey = null; // answered: a new attempt is a new intent
      return data.payOrder;
    }, (r) => ({
      OrderPaid: { kind: "ok", text: "Paid. Your order is confirmed." },
      ReservationExpired: { kind: "error", text: `Your reservation expired before the payment went through${r.refunded ? "; the charge was refunded" : ""}.` },
      PaymentDeclined: { kind: "error", text: `Your payment was declined (${r.reason}). You can try again before the deadline.` },
      PaymentWindowClosed: { kind: "error", text: "The payment window has closed." },
      OrderNotPayable: { kind: "error", text: `This order cannot be paid now${r.refunded ? "; the charge was refunded" : ""}.` },
      OrderNotFound: { kind: "error", text: "This order does not exist." },
      IdempotencyKeyReused: { kind: "error", text: "That payment attempt belongs to another order: try again." },
      RateLimited: { kind: "error", text: `Too many tries: wait ${span(r.retryAfterMs ?? 0)}.` },
    }), "Nothing is lost: try again, you will not be charged twice.");
  }
  function cancel() {
    return act("cancel", async () => {
      const data = await client.request(`mutation($id: ID!) { cancelOrder(input: {orderId: $id}) {
        __typename
        ... on OrderCancelled { order { ${ORDER} } }
        ... on OrderRefunded { order { ${ORDER} } }
        ... on OrderNotCancellable { order { ${ORDER} } }
        ... on RateLimited { retryAfterMs } } }`, { id: state.order.id });
      return data.cancelOrder;
    }, (r) => ({
      OrderCancelled: { kind: "ok", text: "Cancelled: the unit is back on sale." },
      OrderRefunded: { kind: "ok", text: "Cancelled and refunded." },
      OrderNotCancellable: { kind: "error", text: "This order can no longer be cancelled." },
      OrderNotFound: { kind: "error", text: "This order does not exist." },
      RateLimited: { kind: "error", text: `Too many tries: wait ${span(r.retryAfterMs ?? 0)}.` },
    }), "Try again.");
  }
  render();
  onLeave(client.subscribe(`subscription($id: ID!) { orderUpdates(orderId: $id) { ${ORDER} } }`, { id: initial.id }, {
    next: (data) => {
      const order = data.orderUpdates;
      if (order.status === state.order.status) return;
      const notes = { EXPIRED: { kind: "error", text: "Your reservation expired: the unit went back on sale." } };
      update(order, state.busy ? null : notes[order.status] ?? { kind: "ok", text: `Your order is now ${statusWords[order.status].toLowerCase()}.` });
    },
  }));
  return panel;
}

const statusWords = { RESERVED: "Reserved", PAID: "Paid", CANCELLED: "Cancelled", EXPIRED: "Expired", REFUNDED: "Refunded" };

/** Reserved → Paid, or where the order left that path. */
function timeline(order) {
  const steps = order.status === "PAID" || order.status === "RESERVED" ? ["RESERVED", "PAID"]
    : order.status === "REFUNDED" ? ["RESERVED", "PAID", "REFUNDED"] : ["RESERVED", order.status];
  return h("ol", { class: "timeline", "aria-label": "Order progress" },
    steps.map((step) => {
      const index = steps.indexOf(step), current = steps.indexOf(order.status);
      return h("li", { class: index < current ? "done" : index === current ? "current" : "todo", "aria-current": index === current ? "step" : null },
        statusWords[step]);
    }));
}

async function ordersPage() {
  if (!session.token()) {
    show("view", h("h1", { tabindex: -1 }, "My orders"), h("p", {}, h("a", { href: "#/signin?next=%23%2Forders" }, "Sign in"), " to see your orders."));
    return;
  }
  const data = await load(`query { myOrders(first: 50) { edges { node { ${ORDER} } } } }`);
  const orders = data.myOrders.edges.map((e) => e.node);
  show("view", h("h1", { tabindex: -1 }, "My orders"),
    orders.length
      ? h("ul", { class: "orders" }, orders.map((o) => h("li", {},
          h("a", { href: `#/order/${encodeURIComponent(o.id)}` }, `${o.quantity} × ${o.deal?.product?.name ?? "item"}`),
          " ", h("span", { class: `status status-${o.status.toLowerCase()}` }, statusWords[o.status]),
          " ", h("time", { datetime: o.createdAt }, new Date(o.createdAt).toLocaleString()))))
      : h("p", {}, "No orders yet. ", h("a", { href: "#/" }, "See the deals")));
}

async function orderPage(id) {
  const data = await load(`query($id: ID!) { order(id: $id) { ${ORDER} } }`, { id });
  if (!data.order) {
    show("view", h("h1", { tabindex: -1 }, "No such order"), h("p", {}, h("a", { href: "#/orders" }, "My orders")));
    return;
  }
  show("view", h("p", {}, h("a", { href: "#/orders" }, "← My orders")), h("h1", { tabindex: -1 }, `Order ${data.order.id.slice(0, 10)}…`),
    orderPanel(data.order, { headingLevel: "h2" }));
}

// ---------------------------------------------------------------------------------------------
// Signing in

function signInPage(next) {
  const error = h("p", { id: "signin-error", role: "alert", class: "message message-error", hidden: true });
  const fail = (message) => { error.hidden = false; error.textContent = message; };
  const done = () => {
    client.reconnect();
    renderHeader();
    toast(`Signed in as ${session.user()}.`);
    location.hash = next;
  };
  const name = h("input", { id: "signin-name", name: "user", autocomplete: "username", required: true, pattern: "[A-Za-z0-9_.:\\-]{1,64}",
    "aria-describedby": "signin-help" });
  const token = h("textarea", { id: "signin-token", name: "token", rows: 3, "aria-describedby": "token-help" });
  show("view",
    h("h1", { tabindex: -1 }, "Sign in"),
    h("form", { class: "signin", onsubmit: async (event) => {
      event.preventDefault();
      try {
        if (await session.demo(name.value)) done();
        else fail("This shop has no demo sign-in: paste the token your account gave you below.");
      } catch (e) { fail(e.message); }
    } },
      h("label", { for: "signin-name" }, "Your name"), name,
      h("p", { id: "signin-help", class: "help" }, "Letters, digits and - _ . : (this demo shop signs you in by name)."),
      h("button", { type: "submit" }, "Sign in")),
    h("details", {}, h("summary", {}, "Sign in with a token"),
      h("form", { class: "signin", onsubmit: (event) => {
        event.preventDefault();
        try { session.use(token.value); done(); } catch (e) { fail(e.message); }
      } },
        h("label", { for: "signin-token" }, "Token"), token,
        h("p", { id: "token-help", class: "help" }, "A bearer token (JWT) from your identity provider."),
        h("button", { type: "submit" }, "Use this token"))),
    error);
}

// ---------------------------------------------------------------------------------------------

session.adoptFromLocation();
renderHeader();
window.addEventListener("hashchange", route);
window.addEventListener("storage", () => { client.reconnect(); renderHeader(); });
route();
