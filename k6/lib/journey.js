// One buyer's visit, as the simulator's journey models it (docs/scenario.md, `traffic.journey`):
// list deals, view the deal, place an order, poll it, pay (or abandon), sometimes cancel, with
// think times between requests.
import { sleep } from 'k6';
import { buyer, cancelOrder, key, listDeals, payOrder, placeOrder, pollOrder, viewDeal } from './shop.js';

/** A think time in seconds from a distribution object in milliseconds (constant, uniform, exponential). */
export function think(distribution) {
  if (!distribution) return 0;
  switch (distribution.type) {
    case 'constant': return distribution.valueMs / 1000;
    case 'uniform': return (distribution.minMs + Math.random() * (distribution.maxMs - distribution.minMs)) / 1000;
    case 'exponential': return (-Math.log(1 - Math.random()) * distribution.meanMs) / 1000;
    default: throw new Error(`think time ${distribution.type} has no k6 mapping`);
  }
}

/** Picks a deal by weight. */
export function pickDeal(deals) {
  const total = deals.reduce((sum, d) => sum + d.weight, 0);
  let draw = Math.random() * total;
  for (const d of deals) {
    draw -= d.weight;
    if (draw < 0) return d.id;
  }
  return deals[deals.length - 1].id;
}

export function visit(plan) {
  const j = plan.journey;
  const user = buyer(plan.users);
  const deal = pickDeal(plan.deals);
  const pause = () => { const s = think(j.thinkTime); if (s > 0) sleep(s); };
  if (Math.random() < j.browseProbability) { listDeals(); pause(); }
  if (Math.random() < j.viewProbability) { viewDeal(deal); pause(); }
  if (Math.random() >= j.orderProbability) return;
  const orderId = placeOrder(deal, user, key(), j.quantity);
  if (!orderId) return;
  for (let i = 0; i < j.polls; i++) { pause(); pollOrder(orderId, user); }
  if (Math.random() >= j.payProbability) return;
  pause();
  payOrder(orderId, user, key());
  if (Math.random() < j.cancelProbability) { pause(); cancelOrder(orderId, user); }
}
