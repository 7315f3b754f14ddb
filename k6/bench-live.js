// `make bench-live`: one open-model load level against the live server, in one of two mixes.
// MIX=bench (the default): every iteration is one request: placeOrder (PLACE share), otherwise a
// deal view (9 in 10) or the deal list.
// MIX=journey: every iteration is one buyer's whole journey with no think time: the deal list
// (0.2), the deal, an order (0.7), one status poll, a payment (0.6 of those placed, through the
// server's simulated provider), a cancellation (0.05 of those paid): JOURNEY_REQUESTS requests a
// visit on average, so RATE / JOURNEY_REQUESTS visits a second make RATE requests a second.
// Environment: TARGET, DEAL, RATE (requests/s), DURATION (e.g. 30s), USERS, PLACE (0..1), MIX,
// PAYMENT_MS (the server's provider latency, for payOrder's bar: + 25 ms).
import { buyer, cancelOrder, key, listDeals, payOrder, placeOrder, pollOrder, viewDeal } from './lib/shop.js';

const mix = __ENV.MIX || 'bench';
const journey = { browse: 0.2, order: 0.7, polls: 1, pay: 0.6, cancel: 0.05 };
export const JOURNEY_REQUESTS =
  journey.browse + 1 + journey.order * (1 + journey.polls + journey.pay * (1 + journey.cancel));
const requestsPerIteration = mix === 'journey' ? JOURNEY_REQUESTS : 1;
const rate = Number(__ENV.RATE || 500);
const iterations = Math.max(1, Math.round((rate / requestsPerIteration) * 100));
const paymentMs = Number(__ENV.PAYMENT_MS || 20);

export const options = {
  discardResponseBodies: false,
  // Fewer tags on every sample: k6 shares the server's two cores, and at 2k requests/s tagging
  // each sample with its URL and the rest is a good part of k6's own CPU.
  systemTags: ['status', 'method', 'scenario', 'expected_response'],
  scenarios: {
    level: {
      executor: 'constant-arrival-rate',
      // Per 100 s, so a fractional visit rate runs.
      rate: iterations,
      timeUnit: '100s',
      duration: __ENV.DURATION || '30s',
      // VUs for every request of a second to take the plan's 150 ms (k6's sizing rule: rate ×
      // iteration time plus a margin); k6 adds more, up to maxVUs, if the server gets slower, and
      // an iteration it could not start in time is reported as dropped (and counts against the
      // error bar). Not rate / 2: k6 hands iterations to its VUs in turn, so with 1,000 of them at
      // 2k rps every request ran on a cold JavaScript VM and a cold connection, which cost k6
      // ~5% more CPU on the cores it shares with the server and tripled the 2k level's P95
      // (three alternating pairs: 128 / 218 / 224 ms against 50 / 75 / 46 ms with 300 VUs).
      preAllocatedVUs: Math.max(50, Math.ceil(rate * 0.15)),
      maxVUs: Math.max(200, Math.ceil(rate / requestsPerIteration)),
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  // The per-operation series are thresholds so the summary keeps them (k6 exports a tagged
  // sub-metric only when a threshold names it).
  thresholds: Object.assign(
    { http_req_duration: ['p(95)<150'], flashdeal_faults: ['rate<0.005'] },
    mix === 'journey'
      ? {
          'http_req_duration{operation:viewDeal}': ['p(95)<150'],
          'http_req_duration{operation:placeOrder}': ['p(95)<150'],
          'http_req_duration{operation:orderStatus}': ['p(95)<150'],
          [`http_req_duration{operation:payOrder}`]: [`p(95)<${paymentMs + 25}`],
          'http_req_duration{operation:cancelOrder}': ['p(95)<150'],
          'flashdeal_faults{operation:payOrder}': ['rate<0.005'],
          'flashdeal_faults{operation:cancelOrder}': ['rate<0.005'],
        }
      : {},
  ),
};

const deal = __ENV.DEAL || 'deal-bench';
const users = Number(__ENV.USERS || 100000);
const placeShare = Number(__ENV.PLACE || 0.5);

function visit() {
  const user = buyer(users);
  if (Math.random() < journey.browse) listDeals();
  viewDeal(deal);
  if (Math.random() >= journey.order) return;
  const orderId = placeOrder(deal, user, key());
  if (!orderId) return;
  for (let i = 0; i < journey.polls; i++) pollOrder(orderId, user);
  if (Math.random() >= journey.pay) return;
  payOrder(orderId, user, key());
  if (Math.random() < journey.cancel) cancelOrder(orderId, user);
}

export default function () {
  if (mix === 'journey') {
    visit();
  } else if (Math.random() < placeShare) {
    placeOrder(deal, buyer(users), key());
  } else if (Math.random() < 0.9) {
    viewDeal(deal);
  } else {
    listDeals();
  }
}
