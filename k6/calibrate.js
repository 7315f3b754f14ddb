// `flashdeal calibrate`'s load phases: one open-model run at a moderate rate per PHASE, each
// iteration a fixed sequence of operations by a buyer of its own, so the server's CPU (and k6's,
// and Redis's) over a phase divided among its requests gives each operation's CPU per request
// (calibrate solves the phases together by least squares: pay is what a place-and-pay iteration
// costs beyond a place).
// PHASE: list (the deal list), view (the deal), place (an order), status (an order, three status
// polls), pay (an order, its payment), refund (an order, its payment, its cancellation: the
// journey cancels paid orders), journey (bench-live's whole journey: the deal list 0.2, the deal,
// an order 0.7, a poll, a payment 0.6, a cancellation 0.05; calibrate runs it at several rates to
// measure how the CPU per request changes with the load, and, at its lowest rate, how widely each
// operation's time spreads). Environment: TARGET, DEAL, RATE
// (requests/s), DURATION, PHASE.
import { cancelOrder, listDeals, payOrder, placeOrder, pollOrder, viewDeal } from './lib/shop.js';

const phases = {
  list: { requests: 1, run: () => listDeals() },
  view: { requests: 1, run: (deal) => viewDeal(deal) },
  place: { requests: 1, run: (deal, user) => placeOrder(deal, user, `k-${user}`) },
  status: {
    requests: 4,
    run: (deal, user) => {
      const order = placeOrder(deal, user, `k-${user}`);
      if (order) for (let i = 0; i < 3; i += 1) pollOrder(order, user);
    },
  },
  pay: {
    requests: 2,
    run: (deal, user) => {
      const order = placeOrder(deal, user, `k-${user}`);
      if (order) payOrder(order, user, `p-${user}`);
    },
  },
  refund: {
    requests: 3,
    run: (deal, user) => {
      const order = placeOrder(deal, user, `k-${user}`);
      if (order && payOrder(order, user, `p-${user}`)) cancelOrder(order, user);
    },
  },
  journey: {
    requests: 0.2 + 1 + 0.7 * (1 + 1 + 0.6 * (1 + 0.05)),
    run: (deal, user) => {
      if (Math.random() < 0.2) listDeals();
      viewDeal(deal);
      if (Math.random() >= 0.7) return;
      const order = placeOrder(deal, user, `k-${user}`);
      if (!order) return;
      pollOrder(order, user);
      if (Math.random() >= 0.6) return;
      if (payOrder(order, user, `p-${user}`) && Math.random() < 0.05) cancelOrder(order, user);
    },
  },
};

const phase = phases[__ENV.PHASE];
if (!phase) throw new Error(`PHASE is one of ${Object.keys(phases).join(', ')}, not ${__ENV.PHASE}`);
const rate = Number(__ENV.RATE || 300);

export const options = {
  discardResponseBodies: false,
  systemTags: ['status', 'method', 'scenario', 'expected_response'],
  scenarios: {
    phase: {
      executor: 'constant-arrival-rate',
      rate: Math.max(1, Math.round((rate / phase.requests) * 100)),
      timeUnit: '100s',
      duration: __ENV.DURATION || '10s',
      preAllocatedVUs: Math.max(20, Math.ceil(rate * 0.05)),
      maxVUs: Math.max(100, rate),
    },
  },
  summaryTrendStats: ['avg', 'p(5)', 'med', 'p(95)'],
  // Each operation's count and latency quantiles in the summary (k6 exports a tagged series only
  // when a threshold names it): calibrate takes each operation's spread from the quietest journey.
  thresholds: Object.fromEntries(
    ['listDeals', 'viewDeal', 'placeOrder', 'orderStatus', 'payOrder', 'cancelOrder'].flatMap((op) => [
      [`http_reqs{operation:${op}}`, ['count>=0']],
      [`http_req_duration{operation:${op}}`, ['p(95)>=0']],
    ]),
  ),
};

// A buyer of its own for each iteration of each phase: k6 numbers VUs and iterations afresh in
// every run, and a buyer and key seen in an earlier phase would replay that phase's order or
// payment (idempotently, at a fraction of the work) instead of placing or paying anew.
export default function () {
  phase.run(__ENV.DEAL, `cal-${__ENV.PHASE}-${rate}-${__VU}-${__ITER}`);
}
