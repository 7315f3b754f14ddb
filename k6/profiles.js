// The original plan's load profiles against the live server, each selectable with PROFILE:
// smoke, spike (warm-up, spike, sustained), soak, stress, breakpoint. Every iteration is one
// buyer's visit (k6/lib/journey.js). Open model: arrival-rate executors, visits per second.
// Environment: TARGET (http://127.0.0.1:8080), DEAL (deal-sneakers, the demo catalogue's),
// USERS (100000), SCALE (multiplies every rate, 1), SOAK_DURATION (30m).
import { visit } from './lib/journey.js';

const scale = Number(__ENV.SCALE || 1);
const rate = (n) => Math.max(1, Math.round(n * scale));

const profiles = {
  smoke: { executor: 'constant-arrival-rate', rate: rate(2), timeUnit: '1s', duration: __ENV.DURATION || '10s', preAllocatedVUs: 5, maxVUs: 20 },
  spike: {
    executor: 'ramping-arrival-rate', startRate: rate(10), timeUnit: '1s', preAllocatedVUs: 50, maxVUs: 2000,
    stages: [
      { duration: '30s', target: rate(20) },   // warm-up
      { duration: '10s', target: rate(400) },  // the sale opens
      { duration: '60s', target: rate(400) },  // sustained
      { duration: '10s', target: rate(20) },
    ],
  },
  soak: { executor: 'constant-arrival-rate', rate: rate(100), timeUnit: '1s', duration: __ENV.SOAK_DURATION || '30m', preAllocatedVUs: 100, maxVUs: 1000 },
  stress: {
    executor: 'ramping-arrival-rate', startRate: rate(50), timeUnit: '1s', preAllocatedVUs: 100, maxVUs: 3000,
    stages: [100, 200, 400, 600, 800].flatMap((t) => [{ duration: '30s', target: rate(t) }, { duration: '90s', target: rate(t) }]),
  },
  breakpoint: {
    executor: 'ramping-arrival-rate', startRate: rate(10), timeUnit: '1s', preAllocatedVUs: 200, maxVUs: 5000,
    stages: [{ duration: '10m', target: rate(3000) }],
  },
};

const name = __ENV.PROFILE || 'smoke';
if (!profiles[name]) throw new Error(`PROFILE must be one of ${Object.keys(profiles).join(', ')}; found ${name}`);

export const options = {
  scenarios: { [name]: profiles[name] },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  thresholds: {
    http_req_duration: ['p(95)<150'],
    flashdeal_faults: name === 'breakpoint' ? [{ threshold: 'rate<0.005', abortOnFail: true, delayAbortEval: '10s' }] : ['rate<0.005'],
    checks: ['rate>0.99'],
  },
};

const plan = {
  users: Number(__ENV.USERS || 100000),
  deals: [{ id: __ENV.DEAL || 'deal-sneakers', weight: 1 }],
  journey: {
    browseProbability: 0.3, viewProbability: 1, orderProbability: 0.5, quantity: 1, polls: 1,
    payProbability: 0.8, cancelProbability: 0.02, thinkTime: { type: 'exponential', meanMs: 1000 },
  },
};

export default function () {
  visit(plan);
}
