// The operator console (docs/design/console.md): the sale as it runs (units by deal, live by
// subscription; orders a second, P95, sheds, the outbox and the Kafka lag from the server's own
// `/metrics`, read every two seconds), and the deal commands: schedule, start, end, restock.
import { GraphQLClient } from "./graphql.js";
import { session } from "./session.js";
import { announce, h, money, show, statusBadge, toast } from "./ui.js";

const DEAL = `id status price currency startsAt endsAt perUserLimit available reserved sold waitingRoom { admissionRate } product { id name }`;
const client = new GraphQLClient({ token: () => session.token() });
const deals = new Map(); // id -> deal
let stops = [];

// ---------------------------------------------------------------------------------------------
// Prometheus text, as `/metrics` serves it

/** `[{name, labels: {…}, value}]` from the exposition format (comments skipped). */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

function sum(samples, name, where = () => true) {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);
}

/** The q-quantile of the observations between two readings of a histogram, as PromQL's histogram_quantile. */
export function quantile(q, before, after, name, where = () => true) {
  const buckets = new Map();
  for (const s of after) if (s.name === `${name}_bucket` && where(s.labels)) buckets.set(s.labels.le, (buckets.get(s.labels.le) ?? 0) + s.value);
  for (const s of before) if (s.name === `${name}_bucket` && where(s.labels)) buckets.set(s.labels.le, (buckets.get(s.labels.le) ?? 0) - s.value);
  const sorted = [...buckets].map(([le, count]) => [le === "+Inf" ? Infinity : Number(le), count]).sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0, lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / Math.max(count - lowerCount, 1e-9));
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

// ---------------------------------------------------------------------------------------------
// The sale now

let previous = null;
async function readNumbers() {
  let text;
  try {
    const response = await fetch("/metrics");
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    text = await response.text();
  } catch (error) {
    show("numbers-note", `The server's numbers cannot be read: ${error.message}`);
    return;
  }
  const now = performance.now();
  const samples = parseMetrics(text);
  const outcomes = (operation, outcome) => sum(samples, "flashdeal_business_outcomes_total", (l) => l.operation === operation && l.outcome === outcome);
  const reading = {
    at: now, samples,
    placed: outcomes("placeOrder", "OrderPlaced"), paid: outcomes("payOrder", "OrderPaid"),
    shed: sum(samples, "flashdeal_http_shed_requests_total"),
  };
  const has = (name) => samples.some((s) => s.name === name);
  const numbers = {
    "orders-rate": "–", "payments-rate": "–", p95: "–",
    sheds: String(reading.shed),
    outbox: has("flashdeal_outbox_entries") ? String(sum(samples, "flashdeal_outbox_entries")) : "none here",
    lag: has("flashdeal_writer_kafka_lag_messages") ? String(sum(samples, "flashdeal_writer_kafka_lag_messages")) : "none here",
  };
  if (previous) {
    const seconds = (now - previous.at) / 1000;
    numbers["orders-rate"] = ((reading.placed - previous.placed) / seconds).toFixed(1);
    numbers["payments-rate"] = ((reading.paid - previous.paid) / seconds).toFixed(1);
    const p95 = quantile(0.95, previous.samples, samples, "flashdeal_graphql_operation_duration_seconds");
    numbers.p95 = p95 === null ? "no requests" : `${(p95 * 1000).toFixed(1)} ms`;
  }
  previous = reading;
  readPrediction().catch((error) => show("prediction-note", `The prediction cannot be read: ${error.message}`));
  for (const [id, value] of Object.entries(numbers)) {
    const element = document.getElementById(id);
    if (element) element.textContent = value;
  }
  show("numbers-note", "Read from this server's /metrics every two seconds: rates and P95 over the last two seconds.");
}

// ---------------------------------------------------------------------------------------------
// The simulator's prediction for the running deal (the one with the most units taken)

let predicted = { deal: null, prediction: null };
async function readPrediction() {
  const running = [...deals.values()].filter((d) => d.status === "LIVE" || d.status === "SOLD_OUT")
    .sort((a, b) => b.reserved + b.sold - (a.reserved + a.sold))[0];
  if (!running || running.id === predicted.deal) return;
  predicted = { deal: running.id, prediction: null };
  const response = await fetch(`/admin/predictions?deal=${encodeURIComponent(running.id)}`, { headers: { Authorization: `Bearer ${session.token()}` } });
  const body = await response.json().catch(() => ({}));
  if (predicted.deal !== running.id) return;
  const p = (predicted.prediction = response.ok ? body.prediction : null);
  const note = p
    ? `Beside them, the simulator's prediction for ${running.id}: scenario ${p.scenario}, run ${p.runID} (${p.createdAt}).`
    : `No prediction beside them for ${running.id}: ${body.reason ?? body.error ?? response.status}.`;
  show("prediction-note", note);
  const line = (id, text) => {
    const cell = document.getElementById(id);
    if (!cell) return;
    cell.parentElement.querySelector(".predicted")?.remove();
    if (text) cell.after(h("span", { class: "predicted" }, text));
  };
  line("p95", p?.p95Ms != null ? `predicted ${p.p95Ms.toFixed(1)} ms` : null);
  line("units-sold", p?.ordersAccepted != null
    ? `predicted ${p.ordersAccepted} orders${p.soldOutAtSeconds != null ? `, sold out at ${p.soldOutAtSeconds.toFixed(0)} s` : ""}` : null);
  line("lag", p?.kafkaMaxLag != null ? `predicted peak ${p.kafkaMaxLag}` : null);
  line("sheds", p?.shedRate != null ? `predicted ${(p.shedRate * 100).toFixed(2)}% shed` : null);
}

function units() {
  let available = 0, reserved = 0, sold = 0;
  for (const deal of deals.values()) if (deal.status === "LIVE" || deal.status === "SOLD_OUT") {
    available += deal.available; reserved += deal.reserved; sold += deal.sold;
  }
  for (const [id, value] of Object.entries({ available, reserved, sold })) {
    const element = document.getElementById(`units-${id}`);
    if (element) element.textContent = String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Deals and their commands

function dealRow(deal) {
  const restock = h("input", { type: "number", min: 1, value: 10, id: `restock-${deal.id}`, "aria-label": `Units to add to ${deal.id}` });
  return h("tr", { id: `row-${deal.id}` },
    h("th", { scope: "row" }, deal.id, h("br"), h("small", {}, deal.product?.name ?? "")),
    h("td", {}, statusBadge(deal.status)),
    h("td", {}, money(deal.price, deal.currency)),
    h("td", { class: "available" }, deal.available), h("td", { class: "reserved" }, deal.reserved), h("td", { class: "sold" }, deal.sold),
    h("td", {}, new Date(deal.startsAt).toLocaleString()),
    h("td", { class: "commands" },
      deal.status === "SCHEDULED" ? h("button", { type: "button", onclick: () => command("startDeal", deal.id) }, `Start ${deal.id}`) : null,
      deal.status === "LIVE" || deal.status === "SOLD_OUT" || deal.status === "SCHEDULED"
        ? h("button", { type: "button", class: "secondary", onclick: () => command("endDeal", deal.id) }, `End ${deal.id}`) : null,
      deal.status !== "ENDED" ? h("span", { class: "restock" }, restock,
        h("button", { type: "button", class: "secondary", onclick: () => command("restock", deal.id, Number(restock.value)) }, "Restock")) : null));
}

async function command(name, id, quantity) {
  const args = name === "restock" ? "(id: $id, quantity: $quantity)" : "(id: $id)";
  const declared = name === "restock" ? "($id: ID!, $quantity: Int!)" : "($id: ID!)";
  try {
    const data = await client.request(`mutation${declared} { ${name}${args} {
      __typename ... on DealUpdated { deal { ${DEAL} } } ... on InvalidInput { field message } } }`, { id, quantity });
    const result = data[name];
    if (result.__typename !== "DealUpdated") throw new Error(result.message ?? result.__typename);
    update(result.deal);
    const words = { startDeal: "started", endDeal: "ended", restock: `restocked with ${quantity}` };
    toast(`${id} ${words[name]}.`);
    announce(`${id} ${words[name]}.`);
  } catch (error) {
    toast(`${name} ${id}: ${error.message}`, "error");
  }
}

function update(deal) {
  const known = deals.has(deal.id);
  deals.set(deal.id, deal);
  const row = document.getElementById(`row-${deal.id}`);
  if (row) {
    // Only the numbers when the status holds, so focus stays on the row's buttons.
    const same = row.dataset.status === deal.status;
    if (same) for (const field of ["available", "reserved", "sold"]) row.querySelector(`.${field}`).textContent = deal[field];
    else {
      const made = dealRow(deal);
      made.dataset.status = deal.status;
      const focused = row.contains(document.activeElement);
      row.replaceWith(made);
      if (focused) made.querySelector("button")?.focus();
    }
  } else {
    const made = dealRow(deal);
    made.dataset.status = deal.status;
    document.getElementById("deal-rows")?.append(made);
  }
  if (!known) follow(deal.id);
  units();
}

function follow(id) {
  stops.push(client.subscribe(`subscription($id: ID!) { dealUpdates(dealId: $id) { ${DEAL} } }`, { id }, {
    next: (data) => update(data.dealUpdates),
  }));
}

async function schedule(form) {
  const value = (name) => form.elements[name].value.trim();
  const number = (name) => Number(form.elements[name].value);
  const starts = new Date(value("startsAt") || Date.now());
  const ends = new Date(starts.getTime() + number("hours") * 3600_000);
  try {
    if (value("productName")) {
      const made = await client.request(`mutation($input: CreateProductInput!) { createProduct(input: $input) { __typename ... on InvalidInput { field message } } }`,
        { input: { id: value("productId"), name: value("productName"), description: value("productDescription") } });
      if (made.createProduct.__typename !== "ProductCreated") throw new Error(`${made.createProduct.field}: ${made.createProduct.message}`);
    }
    const input = {
      id: value("dealId"), productId: value("productId"), price: number("price"), startsAt: starts.toISOString(), endsAt: ends.toISOString(),
      perUserLimit: number("perUserLimit"), stock: number("stock"), reservationTtlSeconds: number("reservationTtl"),
      paymentWindowSeconds: number("paymentWindow"),
    };
    if (value("admissionRate")) input.waitingRoomAdmissionRate = Number(value("admissionRate"));
    const data = await client.request(`mutation($input: ScheduleDealInput!) { scheduleDeal(input: $input) {
      __typename ... on DealUpdated { deal { ${DEAL} } } ... on InvalidInput { field message } ... on DealNotFound { dealId } } }`, { input });
    const result = data.scheduleDeal;
    if (result.__typename !== "DealUpdated") throw new Error(result.message ? `${result.field}: ${result.message}` : result.__typename);
    update(result.deal);
    toast(`${result.deal.id} scheduled.`);
    announce(`${result.deal.id} scheduled.`);
  } catch (error) {
    show("schedule-error", error.message).hidden = false;
  }
}

// ---------------------------------------------------------------------------------------------

function signInPage() {
  const name = h("input", { id: "operator-name", required: true, value: "operator", autocomplete: "username" });
  const error = h("p", { role: "alert", class: "message message-error", hidden: true });
  show("view", h("h1", { tabindex: -1 }, "Operator console"),
    h("p", {}, session.token() ? "You are signed in without the admin role." : "Sign in as an operator to run the sale."),
    h("form", { class: "signin", onsubmit: async (event) => {
      event.preventDefault();
      try {
        if (await session.demo(name.value, true)) return start();
        error.hidden = false;
        error.textContent = "This shop has no demo sign-in: open /admin#token=<an admin token> instead.";
      } catch (e) { error.hidden = false; error.textContent = e.message; }
    } }, h("label", { for: "operator-name" }, "Operator name"), name, h("button", { type: "submit" }, "Sign in as operator")),
    error);
  document.querySelector("h1").focus();
}

function field(label, name, attributes = {}) {
  return h("label", {}, label, h("input", { name, ...attributes }));
}

async function start() {
  if (!session.isAdmin()) return signInPage();
  show("who", "Signed in as ", h("strong", {}, session.user()));
  const soon = new Date(Date.now() + 60_000);
  const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  show("view",
    h("h1", { tabindex: -1 }, "Operator console"),
    h("section", { "aria-labelledby": "now-title" }, h("h2", { id: "now-title" }, "The sale now"),
      h("dl", { class: "numbers" },
        [["Units available", "units-available"], ["Units reserved", "units-reserved"], ["Units sold", "units-sold"],
         ["Orders a second", "orders-rate"], ["Payments a second", "payments-rate"], ["P95 (GraphQL)", "p95"],
         ["Requests shed", "sheds"], ["Outbox entries", "outbox"], ["Kafka lag", "lag"]]
          .map(([label, id]) => h("div", { class: "number" }, h("dt", {}, label), h("dd", { id }, "–")))),
      h("p", { id: "numbers-note", class: "help" }),
      h("p", { id: "prediction-note", class: "help" })),
    h("section", { "aria-labelledby": "deals-title" }, h("h2", { id: "deals-title" }, "Deals"),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Deal", "Status", "Price", "Available", "Reserved", "Sold", "Starts", "Commands"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", { id: "deal-rows" })))),
    h("section", { "aria-labelledby": "schedule-title", class: "panel" }, h("h2", { id: "schedule-title" }, "Schedule a deal"),
      h("form", { id: "schedule", class: "grid-form", onsubmit: (event) => { event.preventDefault(); schedule(event.target); } },
        field("Deal id", "dealId", { required: true, value: "deal-new" }),
        field("Product id", "productId", { required: true, value: "sneakers-270" }),
        field("New product's name (blank: existing product)", "productName"),
        field("New product's description", "productDescription"),
        field("Price (₩)", "price", { type: "number", min: 0, required: true, value: 50000 }),
        field("Starts at", "startsAt", { type: "datetime-local", value: local }),
        field("Runs for (hours)", "hours", { type: "number", min: 1, value: 2 }),
        field("Stock", "stock", { type: "number", min: 1, required: true, value: 20 }),
        field("Per-buyer limit", "perUserLimit", { type: "number", min: 1, required: true, value: 2 }),
        field("Reservation lasts (s)", "reservationTtl", { type: "number", min: 10, value: 600 }),
        field("Payment window (s)", "paymentWindow", { type: "number", min: 10, value: 300 }),
        field("Waiting room: buyers a second (blank: none)", "admissionRate", { type: "number", min: 0.1, step: 0.1 }),
        h("button", { type: "submit" }, "Schedule")),
      h("p", { id: "schedule-error", role: "alert", class: "message message-error", hidden: true })));
  document.querySelector("h1").focus();
  const data = await client.request(`query { deals(first: 50) { edges { node { ${DEAL} } } } }`);
  for (const { node } of data.deals.edges) update(node);
  readNumbers();
  const timer = setInterval(readNumbers, 2000);
  stops.push(() => clearInterval(timer));
}

session.adoptFromLocation();
document.getElementById("sign-out").addEventListener("click", () => {
  session.signOut();
  for (const stop of stops.splice(0)) stop();
  deals.clear();
  client.reconnect();
  show("who");
  signInPage();
});
start().catch((error) => show("view", h("h1", {}, "Operator console"), h("p", { role: "alert" }, error.message)));
