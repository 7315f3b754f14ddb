// `make bench-live`: one open-model load level against the live server. Every iteration is one
// request: placeOrder (PLACE share), otherwise a deal view (9 in 10) or the deal list.
// Environment: TARGET, DEAL, RATE (requests/s), DURATION (e.g. 30s), USERS, PLACE (0..1).
import { buyer, key, listDeals, placeOrder, viewDeal } from './lib/shop.js';

const rate = Number(__ENV.RATE || 500);

export const options = {
  discardResponseBodies: false,
  // Fewer tags on every sample: k6 shares the server's two cores, and at 2k requests/s tagging
  // each sample with its URL and the rest is a good part of k6's own CPU.
  systemTags: ['status', 'method', 'scenario', 'expected_response'],
  scenarios: {
    level: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      // VUs for every request of a second to take the plan's 150 ms (k6's sizing rule: rate ×
      // iteration time plus a margin); k6 adds more, up to maxVUs, if the server gets slower, and
      // an iteration it could not start in time is reported as dropped (and counts against the
      // error bar). Not rate / 2: k6 hands iterations to its VUs in turn, so with 1,000 of them at
      // 2k rps every request ran on a cold JavaScript VM and a cold connection, which cost k6
      // ~5% more CPU on the cores it shares with the server and tripled the 2k level's P95
      // (three alternating pairs: 128 / 218 / 224 ms against 50 / 75 / 46 ms with 300 VUs).
      preAllocatedVUs: Math.max(50, Math.ceil(rate * 0.15)),
      maxVUs: Math.max(200, rate),
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  thresholds: {
    http_req_duration: ['p(95)<150'],
    flashdeal_faults: ['rate<0.005'],
  },
};

const deal = __ENV.DEAL || 'deal-bench';
const users = Number(__ENV.USERS || 100000);
const placeShare = Number(__ENV.PLACE || 0.5);

export default function () {
  if (Math.random() < placeShare) {
    placeOrder(deal, buyer(users), key());
  } else if (Math.random() < 0.9) {
    viewDeal(deal);
  } else {
    listDeals();
  }
}
