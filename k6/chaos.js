// `make chaos`: the whole buyer journey (deal list 0.2, deal, order 0.7, one poll, pay 0.6,
// cancel 0.05 of those paid) at a steady rate while a drill breaks something, logging what each
// order's buyer was told (`ORDER <id> <answer>`) for `flashdeal audit --acknowledged`.
// Environment: TARGET, DEAL, RATE (visits/s), DURATION, USERS.
import { buyer, cancelOrder, key, listDeals, payOrder, placeOrder, pollOrder, viewDeal } from './lib/shop.js';

const rate = Number(__ENV.RATE || 50);

export const options = {
  discardResponseBodies: false,
  systemTags: ['status', 'method', 'scenario', 'expected_response'],
  scenarios: {
    drill: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION || '60s',
      preAllocatedVUs: Math.max(20, rate),
      maxVUs: Math.max(100, rate * 10),
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

const deal = __ENV.DEAL || 'deal-chaos';
const users = Number(__ENV.USERS || 100000);

export default function () {
  const user = buyer(users);
  if (Math.random() < 0.2) listDeals();
  viewDeal(deal);
  if (Math.random() >= 0.7) return;
  const orderId = placeOrder(deal, user, key());
  if (!orderId) return;
  console.log(`ORDER ${orderId} placed`);
  pollOrder(orderId, user);
  if (Math.random() >= 0.6) return;
  const paid = payOrder(orderId, user, key());
  const paidType = paid && paid.payOrder.__typename;
  console.log(`ORDER ${orderId} ${paidType === 'OrderPaid' ? 'paid' : paidType === 'PaymentDeclined' ? 'declined' : paidType ? 'placed' : 'payUnknown'}`);
  if (paidType !== 'OrderPaid' || Math.random() >= 0.05) return;
  const cancelled = cancelOrder(orderId, user);
  const cancelType = cancelled && cancelled.cancelOrder.__typename;
  console.log(`ORDER ${orderId} ${cancelType === 'OrderRefunded' ? 'refunded' : 'cancelUnknown'}`);
}
