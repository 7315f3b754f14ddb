// The raw ceiling `make bench-live` compares against: GET /health/live as fast as VUS workers can
// ask (closed model), for DURATION.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: { ceiling: { executor: 'constant-vus', vus: Number(__ENV.VUS || 32), duration: __ENV.DURATION || '10s' } },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

const target = __ENV.TARGET || 'http://127.0.0.1:8080';

export default function () {
  const response = http.get(`${target}/health/live`);
  check(response, { 'live': (r) => r.status === 200 });
}
