// `flashdeal loadtest`: the scenario file's traffic as k6 runs it. The plan (PLAN, a JSON file
// `flashdeal loadtest` derives from the same scenario file the simulator reads) gives the
// ramping-arrival-rate stages in visits per second, the journey, the users and the live deal ids.
import { visit } from './lib/journey.js';

const plan = JSON.parse(open(__ENV.PLAN));

export const options = {
  scenarios: {
    scenario: {
      executor: 'ramping-arrival-rate',
      // k6 takes whole iterations per time unit: rates per 100 s keep a scenario's fractional
      // visits per second (238.1/s is 23810 per 100 s), spaced evenly all the same.
      startRate: Math.round(plan.startRate * 100),
      timeUnit: '100s',
      preAllocatedVUs: plan.preAllocatedVUs,
      maxVUs: plan.maxVUs,
      stages: plan.stages.map((s) => ({ duration: `${s.durationSeconds}s`, target: Math.round(s.target * 100) })),
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  thresholds: {
    http_req_duration: [`p(95)<${plan.p95BudgetMs || 150}`],
    flashdeal_faults: ['rate<0.005'],
  },
};

export default function () {
  visit(plan);
}
