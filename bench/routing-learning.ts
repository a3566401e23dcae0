/**
 * Routing-learning simulation (`npm run bench -- routing-learning`, seeded): a synthetic tenant whose cheap tier
 * fails on some message kinds (account problems, maths, analysis) and not on others (greetings, FAQs, complaints).
 * The learning policy (llm/routing/tier-policy.ts, the code production runs) routes a stream of messages; a share
 * of its answers get a helpful / not-helpful click drawn from the true helpful rate of the tier that answered; the
 * clicks update the (kind, tier) posteriors exactly as routing_posteriors does. After 500, 2,000 and 10,000 clicks
 * the policy of that moment (exploiting, frozen) is evaluated on a fresh set of messages against:
 * - the oracle: per kind, the cheapest tier whose true helpful rate is within 2 points of the best tier's;
 * - no learning: the quality knob alone (the scorer's tier).
 * Target: within 5% of the oracle's helpful rate at no more than 110% of its cost after 2,000 feedback events.
 */
import { costDollars } from '../src/llm/cost';
import { loadDefaultCatalog } from '../src/llm/catalog/model-catalog';
import { resolveRoutingPolicy } from '../src/llm/routing-policy';
import { tierThresholds } from '../src/llm/routing/quality-knob';
import { cellKey, decideTier, knobTier, POLICY_TIERS, type PolicyTier, type CellPosterior } from '../src/llm/routing/tier-policy';
import type { BenchRow } from './lib/report';
import { mulberry32 } from '../src/seeded-random';

interface KindProfile {
  kind: string;
  /** Share of the tenant's traffic. */
  share: number;
  /** The offline scorer's scores for this kind: uniform in [low, high]. */
  scores: [number, number];
  /** True helpful rate of each tier for this tenant's messages of this kind. */
  helpful: Record<PolicyTier, number>;
}

/**
 * The synthetic tenant. Account problems look easy to the offline scorer (low scores) but this tenant's cheap
 * model handles them badly: only learning from feedback can find that out. Maths needs more than cheap but not
 * the reasoning tier the scorer would send it to: learning can save money there. The rest are served well cheaply.
 */
const TENANT: KindProfile[] = [
  { kind: 'greeting', share: 0.2, scores: [0.0, 0.1], helpful: { cheap: 0.95, balanced: 0.95, reasoning: 0.95 } },
  { kind: 'faq', share: 0.35, scores: [0.05, 0.3], helpful: { cheap: 0.9, balanced: 0.91, reasoning: 0.91 } },
  { kind: 'account', share: 0.25, scores: [0.05, 0.3], helpful: { cheap: 0.55, balanced: 0.88, reasoning: 0.89 } },
  { kind: 'complaint', share: 0.1, scores: [0.1, 0.4], helpful: { cheap: 0.8, balanced: 0.81, reasoning: 0.81 } },
  { kind: 'maths', share: 0.1, scores: [0.45, 0.8], helpful: { cheap: 0.5, balanced: 0.86, reasoning: 0.87 } },
];

/** Share of answers whose customer clicks helpful or not helpful. */
const CLICK_RATE = 0.3;
const CHECKPOINTS = [500, 2_000, 10_000];
const EVALUATION_MESSAGES = 20_000;
const SEED = 20_261_202;

/** Dollars per answer of each tier's first default model, for a typical WhatsApp turn (900 tokens in, 150 out). */
function tierCosts(): Record<PolicyTier, number> {
  const catalog = loadDefaultCatalog();
  const policy = resolveRoutingPolicy({});
  const usage = { inputTokens: 900, cachedInputTokens: 0, outputTokens: 150 };
  const costs = {} as Record<PolicyTier, number>;
  for (const tier of POLICY_TIERS) costs[tier] = Number(costDollars(catalog.find(policy.tiers[tier][0])!, usage));
  return costs;
}

interface Message {
  profile: KindProfile;
  score: number;
}

function drawMessage(random: () => number): Message {
  let pick = random();
  let profile = TENANT[TENANT.length - 1];
  for (const candidate of TENANT) {
    if (pick < candidate.share) {
      profile = candidate;
      break;
    }
    pick -= candidate.share;
  }
  return { profile, score: profile.scores[0] + random() * (profile.scores[1] - profile.scores[0]) };
}

/** The oracle's tier for a kind: the cheapest within 2 points of the best helpful rate. */
function oracleTier(profile: KindProfile): PolicyTier {
  const best = Math.max(...POLICY_TIERS.map((tier) => profile.helpful[tier]));
  return POLICY_TIERS.find((tier) => profile.helpful[tier] >= best - 0.02)!;
}

interface Evaluation {
  helpful: number;
  costPerReply: number;
}

/** Mean true helpful rate and cost per reply of a tier choice, over a fixed evaluation set. */
function evaluate(messages: Message[], choose: (message: Message) => PolicyTier, costs: Record<PolicyTier, number>): Evaluation {
  let helpful = 0;
  let cost = 0;
  for (const message of messages) {
    const tier = choose(message);
    helpful += message.profile.helpful[tier];
    cost += costs[tier];
  }
  return { helpful: helpful / messages.length, costPerReply: cost / messages.length };
}

/** Runs the simulation and returns the report rows. */
export function runRoutingLearningBenchmark(): BenchRow[] {
  const costs = tierCosts();
  const thresholds = tierThresholds(0.5);
  const available = new Set(POLICY_TIERS);
  const evaluationRandom = mulberry32(SEED + 1);
  const evaluationSet = Array.from({ length: EVALUATION_MESSAGES }, () => drawMessage(evaluationRandom));
  const oracle = evaluate(evaluationSet, (message) => oracleTier(message.profile), costs);
  const knobOnly = evaluate(evaluationSet, (message) => knobTier(message.score, thresholds), costs);

  const random = mulberry32(SEED);
  const cells = new Map<string, CellPosterior>();
  const rows: BenchRow[] = [];
  const row = (figure: string, unit: string, value: number, extra: Partial<BenchRow> = {}): BenchRow => ({
    benchmark: 'routing learning',
    figure,
    unit,
    median: value,
    min: value,
    max: value,
    runs: 1,
    ...extra,
  });
  rows.push(
    row('oracle: helpful rate / cost per reply', '', oracle.helpful, { unit: `helpful, $${oracle.costPerReply.toFixed(6)}/reply` }),
  );
  rows.push(
    row('no learning (knob only): helpful rate', 'helpful', knobOnly.helpful, {
      baseline: oracle.helpful,
      baselineLabel: 'oracle',
      ratio: knobOnly.helpful / oracle.helpful,
    }),
  );
  rows.push(
    row('no learning (knob only): cost per reply', '$', knobOnly.costPerReply, {
      baseline: oracle.costPerReply,
      baselineLabel: 'oracle',
      ratio: knobOnly.costPerReply / oracle.costPerReply,
    }),
  );

  let clicks = 0;
  let replies = 0;
  let explored = 0;
  for (const checkpoint of CHECKPOINTS) {
    while (clicks < checkpoint) {
      const message = drawMessage(random);
      const decision = decideTier({
        score: message.score,
        kind: message.profile.kind,
        thresholds,
        available,
        escalation: 0,
        cells,
        random,
      });
      replies += 1;
      if (decision.explored) explored += 1;
      if (random() >= CLICK_RATE) continue;
      clicks += 1;
      const helpful = random() < message.profile.helpful[decision.tier];
      const key = cellKey(message.profile.kind, decision.tier);
      const cell = cells.get(key) ?? { good: 0, bad: 0 };
      cells.set(key, helpful ? { good: cell.good + 1, bad: cell.bad } : { good: cell.good, bad: cell.bad + 1 });
    }
    const frozen = new Map(cells);
    const learnt = evaluate(
      evaluationSet,
      (message) =>
        decideTier({
          score: message.score,
          kind: message.profile.kind,
          thresholds,
          available,
          escalation: 0,
          cells: frozen,
          random,
          options: { explorationShare: 0 },
        }).tier,
      costs,
    );
    const helpfulRatio = learnt.helpful / oracle.helpful;
    const costRatio = learnt.costPerReply / oracle.costPerReply;
    const target = checkpoint === 2_000;
    rows.push(
      row(`after ${checkpoint.toLocaleString('en-US')} feedback events: helpful rate`, 'helpful', learnt.helpful, {
        baseline: oracle.helpful,
        baselineLabel: 'oracle',
        ratio: helpfulRatio,
        ...(target ? { target: '>= 0.95× oracle', meetsTarget: helpfulRatio >= 0.95 } : {}),
      }),
      row(`after ${checkpoint.toLocaleString('en-US')} feedback events: cost per reply`, '$', learnt.costPerReply, {
        baseline: oracle.costPerReply,
        baselineLabel: 'oracle',
        ratio: costRatio,
        ...(target ? { target: '<= 1.10× oracle', meetsTarget: costRatio <= 1.1 } : {}),
      }),
    );
  }
  rows.push(
    row('replies routed while learning (exploring share)', 'replies', replies, {
      unit: `replies, ${((explored / replies) * 100).toFixed(1)}% explored`,
    }),
  );
  return rows;
}

if (require.main === module) {
  for (const row of runRoutingLearningBenchmark()) {
    process.stdout.write(
      `${row.figure}: ${row.median.toPrecision(4)} ${row.unit}${row.ratio === undefined ? '' : ` (${row.ratio.toFixed(3)}× ${row.baselineLabel})`}\n`,
    );
  }
}
