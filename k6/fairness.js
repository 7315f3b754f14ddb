// Humans and bots at a sale's start, as experiments/fairness/bots.json describes them (what
// `flashdeal fairness` predicts), against the live shop: scripts/fairness.sh runs it once on a deal
// without a waiting room (ROOM=0) and once on one with (ROOM=1) and turns the FAIR lines it prints
// into docs/fairness.md.
//
// Humans: EARLY_SHARE of them arrive at random before the start, the rest evenly over LATE_SECONDS
// after it; each reacts in about HUMAN_REACTION_MS and tries again each second while the deal is
// not live. Bots: there in the second before the start, each an identity of its own with an address
// of its own, reacting in milliseconds and retrying every BOT_RETRY_MS. With a waiting room every
// buyer joins on arriving, polls its standing (humans each second, bots every BOT_POLL_MS) and orders
// with the admission ticket once through. Each buyer prints one line:
//   FAIR <human|bot> <user> start=<ms> arrived=<ms> served=<ms|-> won=<0|1>
// served: the server's admittedAt with a waiting room, else when the first order after the start was
// sent. Environment: TARGET, DEAL, START_MS (the deal's start, epoch ms), ROOM, HUMANS, BOTS,
// EARLY_SHARE, LATE_SECONDS, START_SECONDS, RUN (a prefix for the buyers' ids).
import exec from 'k6/execution';
import { sleep } from 'k6';
import { graphql } from './lib/shop.js';

const humans = Number(__ENV.HUMANS || 300);
const bots = Number(__ENV.BOTS || 30);
const start = Number(__ENV.START_MS);
const startSeconds = Number(__ENV.START_SECONDS || 15);
const lateSeconds = Number(__ENV.LATE_SECONDS || 15);
const early = Math.round(humans * Number(__ENV.EARLY_SHARE || 0.6));
const room = __ENV.ROOM === '1';
const deal = __ENV.DEAL;
const run = __ENV.RUN || 'f';
const humanReaction = Number(__ENV.HUMAN_REACTION_MS || 800);
const botRetry = Number(__ENV.BOT_RETRY_MS || 20);
const botPoll = Number(__ENV.BOT_POLL_MS || 50);
const maxDuration = `${startSeconds + lateSeconds + 60}s`;

export const options = {
  scenarios: {
    humans: { executor: 'per-vu-iterations', vus: humans, iterations: 1, maxDuration, exec: 'human' },
    bots: { executor: 'per-vu-iterations', vus: bots, iterations: 1, maxDuration, exec: 'bot' },
  },
  summaryTrendStats: ['med', 'p(95)'],
};

/** A deterministic draw in [0, 1) for buyer `i` (k6's Math.random is not seeded). */
function draw(i, salt) {
  let h = (i * 2654435761 + salt * 40503) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 2246822507) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 3266489909) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function exponential(mean, i, salt) { return -mean * Math.log(1 - draw(i, salt)); }

function sleepUntil(ms) {
  const wait = ms - Date.now();
  if (wait > 0) sleep(wait / 1000);
}

const standingQuery = 'query($d: ID!) { waitingRoom(dealId: $d) { position admitted admittedAt admissionTicket } }';

/** Joins the waiting room and polls until through; returns [admittedAt ms, ticket]. */
function waitForAdmission(user, pollMs) {
  graphql('joinWaitingRoom', 'mutation($d: ID!) { joinWaitingRoom(dealId: $d) { __typename } }', { d: deal }, user);
  for (;;) {
    const data = graphql('waitingRoom', standingQuery, { d: deal }, user);
    const standing = data && data.waitingRoom;
    if (standing && standing.admitted && standing.admissionTicket) return [Date.parse(standing.admittedAt), standing.admissionTicket];
    sleep(pollMs / 1000);
  }
}

/** One order attempt: 'won', 'lost' (sold out, the limit, the deal over), or 'again'. */
function order(user, key, ticket) {
  const data = graphql(
    'placeOrder',
    'mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { __typename } }',
    { in: { dealId: deal, quantity: 1, idempotencyKey: key, admissionTicket: ticket } },
    user,
  );
  const kind = data && data.placeOrder.__typename;
  if (kind === 'OrderPlaced') return 'won';
  if (kind === 'SoldOut' || kind === 'PurchaseLimitExceeded' || kind === 'ReservationCapReached') return 'lost';
  if (kind === 'DealNotActive' && Date.now() > start + 60000) return 'lost';
  return 'again';  // not live yet, rate limited, a ticket to renew, or a fault
}

function report(kind, user, arrived, served, won) {
  console.log(`FAIR ${kind} ${user} start=${start} arrived=${Math.round(arrived)} served=${served === null ? '-' : Math.round(served)} won=${won ? 1 : 0}`);
}

function buy(kind, i, user, arrived, reactionMs, retryMs, pollMs) {
  let served = null;
  let ticket;
  let outcome = 'again';
  for (let attempt = 0; outcome === 'again' && attempt < 2000; attempt++) {
    if (room) {
      let admittedAt;
      [admittedAt, ticket] = waitForAdmission(user, pollMs);
      if (served === null) served = admittedAt;
      if (attempt === 0) sleep(exponential(reactionMs / 4, i, 3) / 1000);
    } else if (attempt === 0) {
      sleepUntil(Math.max(arrived, start) + exponential(reactionMs, i, 3));
    }
    if (!room && served === null && Date.now() >= start) served = Date.now();
    outcome = order(user, `${user}-k`, ticket);
    if (outcome === 'again') sleep(retryMs / 1000);
  }
  report(kind, user, arrived, served, outcome === 'won');
}

export function human() {
  const i = exec.scenario.iterationInTest + 1;
  const arrived = i <= early ? start - startSeconds * 1000 + draw(i, 1) * startSeconds * 1000 : start + ((i - early) / Math.max(1, humans - early)) * lateSeconds * 1000;
  sleepUntil(arrived);
  buy('human', i, `${run}-h${i}`, arrived, humanReaction, 1000, 1000);
}

export function bot() {
  const i = exec.scenario.iterationInTest + 1;
  const arrived = start - draw(i + 100000, 2) * 1000;
  sleepUntil(arrived);
  buy('bot', i + 100000, `${run}-b${i}`, arrived, 5, botRetry, botPoll);
}
