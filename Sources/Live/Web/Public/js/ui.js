// The pages' shared components: an element builder, money and time formats, the countdown, the
// stock bar, toasts and the live region that announces changes to screen readers
// (docs/design/components.md).

/** `h("button", {class: "buy", onclick}, "Buy")`: an element with attributes, handlers and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function money(minorUnits, currency = "KRW") {
  // The API's prices are in minor units; KRW has none, so 99000 is ₩99,000.
  const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(minorUnits / 10 ** digits);
}

/** `1h 02m`, `4m 09s`, `12s`. */
export function span(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/** A `<time>` that counts down to `target` each second; `done()` once it is reached. */
export function countdown(target, { prefix = "", done = () => {} } = {}) {
  const element = h("time", { datetime: new Date(target).toISOString(), class: "countdown" });
  let finished = false;
  const tick = () => {
    if (!element.isConnected && element.dataset.started) return clearInterval(timer);
    element.dataset.started = "1";
    const left = new Date(target).getTime() - Date.now();
    element.textContent = `${prefix}${span(left)}`;
    if (left <= 0 && !finished) {
      finished = true;
      clearInterval(timer);
      done();
    }
  };
  const timer = setInterval(tick, 1000);
  tick();
  return element;
}

/** A deal's stock as a meter and words: available of the total, reserved and sold. */
export function stockBar(deal) {
  const total = deal.available + deal.reserved + deal.sold;
  const label = `${deal.available} of ${total} left`;
  return h(
    "div",
    { class: "stock", dataset: { available: deal.available } },
    h("meter", { min: 0, max: Math.max(total, 1), value: deal.available, low: Math.ceil(total * 0.2), high: Math.ceil(total * 0.5), optimum: total, "aria-label": "Units left" }),
    h("p", { class: "stock-words" }, h("strong", {}, label), ` · ${deal.reserved} reserved · ${deal.sold} sold`),
  );
}

const statusNames = { SCHEDULED: "Coming soon", LIVE: "Live now", SOLD_OUT: "Sold out", ENDED: "Ended" };
export function statusBadge(status) {
  return h("span", { class: `badge badge-${status.toLowerCase().replace("_", "-")}` }, statusNames[status] ?? status);
}

/** Says `text` to screen readers through the page's live region (politely, or at once). */
export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? "alerts" : "announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a frame, so the same words said twice are said again.
  requestAnimationFrame(() => (region.textContent = text));
}

/** A message that stays a few seconds at the corner (and is announced). */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** Replaces the children of the element with id `id` (nothing when the view no longer has it). */
export function show(id, ...children) {
  const element = document.getElementById(id);
  element?.replaceChildren(...children.flat().filter(Boolean));
  return element;
}

/** A fresh idempotency key: one per intent, reused by its retries. */
export function newKey(prefix) {
  return `${prefix}-${crypto.randomUUID()}`;
}
