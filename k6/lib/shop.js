// The Flash Deal GraphQL operations every k6 script uses, and the metrics that separate
// business outcomes (sold out, over the limit) from failures. Plain ES module, no remote imports.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';

export const soldOut = new Counter('flashdeal_sold_out');
export const limitReached = new Counter('flashdeal_limit_reached');
export const ordersPlaced = new Counter('flashdeal_orders_placed');
export const ordersPaid = new Counter('flashdeal_orders_paid');
export const faults = new Rate('flashdeal_faults');

const target = __ENV.TARGET || 'http://127.0.0.1:8080';
// The client's time-out per request (`flashdeal loadtest` passes the scenario's); k6's default is 60 s.
const timeout = __ENV.TIMEOUT_MS ? `${__ENV.TIMEOUT_MS}ms` : '60s';

// Buyers prove who they are with a bearer token (HS256) signed with the server's secret: SECRET (or
// FLASHDEAL_AUTH_SECRET from the environment, as the server reads it); by default the development
// secret the embedded mode verifies with.
const secret = __ENV.SECRET || __ENV.FLASHDEAL_AUTH_SECRET || 'flashdeal-development-secret-not-for-production';
const jwtHeader = encoding.b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');
const trustedHeader = __ENV.FLASHDEAL_AUTH_MODE === 'trusted-header';
let tokens = {};
let tokenCount = 0;

/** `Bearer <token>` for `user`, valid for a day; made once per user and VU (at most 10,000 kept). */
export function bearer(user) {
  const known = tokens[user];
  if (known) return known;
  if (tokenCount >= 10000) {
    tokens = {};
    tokenCount = 0;
  }
  const claims = encoding.b64encode(JSON.stringify({ sub: user, exp: Math.floor(Date.now() / 1000) + 86400 }), 'rawurl');
  const body = `${jwtHeader}.${claims}`;
  const token = `Bearer ${body}.${crypto.hmac('sha256', secret, body, 'base64rawurl')}`;
  tokens[user] = token;
  tokenCount += 1;
  return token;
}

/**
 * The client address a load balancer would name in X-Forwarded-For for this buyer (anonymous
 * requests: the VU's): the server's per-address buckets see many clients, as they do in
 * production, rather than k6's one loopback address (the scripts run the server with
 * limits.clientAddressHeader = X-Forwarded-For).
 */
function addressOf(name) {
  let h = 0;
  for (let i = 0; i < name.length; i += 1) h = (h * 31 + name.charCodeAt(i)) | 0;
  return `10.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
}

/**
 * POSTs one GraphQL operation; a transport error, a non-200 or an `errors` array is a fault.
 * Returns the `data` object when `wantData` (the default), else `true`, or null on a fault. A body
 * without the text "errors" anywhere cannot carry an `errors` array, so a caller that needs no data
 * (a page view) costs no JSON.parse: at thousands of requests a second k6 shares the server's cores.
 * Faults are counted in `flashdeal_faults` only (a k6 check beside it would record every request
 * twice).
 */
export function graphql(name, query, variables, user, wantData = true) {
  const headers = { 'Content-Type': 'application/json' };
  // A server run with auth.mode trusted-header (a gateway in front; benchmarks compare it with
  // tokens) reads the caller from X-User-Id instead.
  if (user && trustedHeader) headers['X-User-Id'] = user;
  else if (user) headers.Authorization = bearer(user);
  headers['X-Forwarded-For'] = addressOf(user || `vu-${__VU}`);
  const response = http.post(`${target}/graphql`, JSON.stringify({ query, variables }), {
    headers,
    timeout,
    tags: { operation: name },
  });
  const text = response.status === 200 && typeof response.body === 'string' ? response.body : null;
  let ok = text !== null && text.length > 0;
  let data = null;
  if (ok && (wantData || text.indexOf('"errors"') !== -1)) {
    try {
      const body = JSON.parse(text);
      ok = body !== null && !body.errors && body.data !== undefined;
      data = ok ? body.data : null;
    } catch (e) {
      ok = false;
    }
  }
  faults.add(!ok, { operation: name });
  if (!ok) return null;
  return wantData ? data : true;
}

export function viewDeal(dealId) {
  return graphql('viewDeal', 'query($id: ID!) { deal(id: $id) { id status available reserved sold price product { name } } }', { id: dealId }, undefined, false);
}

export function listDeals() {
  return graphql('listDeals', 'query { deals(first: 10) { edges { cursor node { id status available } } pageInfo { hasNextPage endCursor } } }', {}, undefined, false);
}

/** Places an order; returns the order id when placed. Sold out and over the limit are outcomes. */
export function placeOrder(dealId, user, key, quantity = 1) {
  const data = graphql(
    'placeOrder',
    'mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { __typename ... on OrderPlaced { order { id } } } }',
    { in: { dealId, quantity, idempotencyKey: key } },
    user,
  );
  if (!data) return null;
  const result = data.placeOrder;
  if (result.__typename === 'OrderPlaced') { ordersPlaced.add(1); return result.order.id; }
  if (result.__typename === 'SoldOut') soldOut.add(1);
  // A buyer's limits: the per-user limit, the reservation cap, the cool-down after a cancellation.
  if (['PurchaseLimitExceeded', 'ReservationCapReached', 'CancelCoolDown'].includes(result.__typename)) limitReached.add(1);
  return null;
}

export function payOrder(orderId, user, key) {
  const data = graphql(
    'payOrder',
    'mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }',
    { in: { orderId, idempotencyKey: key } },
    user,
  );
  if (data && data.payOrder.__typename === 'OrderPaid') ordersPaid.add(1);
  return data;
}

export function cancelOrder(orderId, user) {
  return graphql('cancelOrder', 'mutation($in: CancelOrderInput!) { cancelOrder(input: $in) { __typename } }', { in: { orderId } }, user);
}

export function pollOrder(orderId, user) {
  return graphql('orderStatus', 'query($id: ID!) { order(id: $id) { id status } }', { id: orderId }, user, false);
}

/** A buyer id and an idempotency key unique to this iteration. */
export function buyer(users) {
  return `u-${Math.floor(Math.random() * users)}`;
}
export function key() {
  return `k-${__VU}-${__ITER}-${Math.floor(Math.random() * 1e9)}`;
}
