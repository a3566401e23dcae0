/**
 * `npm run eval:routing [-- --fold-seed N --bootstrap N --no-write]`: the trained router against baselines on
 * held-out data, written to docs/routing-eval.md.
 *
 * Grouped 5-fold cross-validation over all rows at once: MMLU rows are grouped by subject, Banking77 and CLINC150
 * rows by intent, GSM8K and Parley-written rows are their own group (plain k-fold). For each fold the whole training
 * (including the choice of the shrinkage scales on an inner fold of the training rows) runs on the other four folds,
 * and the quantised model file it produces scores the held-out fold; every row gets an out-of-fold score, and the
 * metrics are computed on the pooled out-of-fold scores. Baselines need no training: prompt length in exact tokens,
 * the hand-made regular-expression scorer (src/llm/complexity.ts), and seeded random scores.
 *
 * `npm run eval:routing -- --off-policy [--tenant <id|+E164>] [--days N] [--quality 0.3,0.5,0.7]` instead estimates
 * candidate knob values from the decisions production logged (scripts/routing/off-policy-report.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../src/config';
import { openDatabase } from '../../src/db/data-source';
import { extractFeatures, scoreComplexity } from '../../src/llm/complexity';
import { LEARNT_KINDS, type MessageKind } from '../../src/llm/routing/message-kinds';
import { DEFAULT_QUALITY, type ScoredTier, tierForScore, tierThresholds } from '../../src/llm/routing/quality-knob';
import {
  averageGapRecovered,
  callsToRecover,
  descendingOrder,
  gapRecoveredCurve,
  type LabelledOutcome,
  percentile,
  seededRandom,
} from '../../src/llm/routing/routing-metrics';
import { createRoutingScorer } from '../../src/llm/routing/routing-scorer';
import { countTextTokens } from '../../src/llm/token-counter';
import { estimateQualities, formatOffPolicyReport, loadLoggedDecisions, parseOffPolicyArgs, resolveTenantId } from './off-policy-report';
import {
  assignFolds,
  QUESTION_FORMATS,
  type QuestionFormat,
  type ScorerCandidate,
  TRAINING_CONFIG,
  trainRouterModel,
} from './router-training';
import { type DatasetName, featurize, loadRoutingRows, type RoutingRow } from './training-data';

const METHODS = ['trained scorer', 'prompt length (tokens)', 'regex scorer (complexity.ts)', 'random'] as const;
type Method = (typeof METHODS)[number];
const EVERYDAY = ['banking77', 'clinc150'] as const;
const DATASET_LABELS: Record<DatasetName, string> = {
  gsm8k: 'GSM8K',
  mmlu: 'MMLU',
  banking77: 'Banking77',
  clinc150: 'CLINC150',
  parley: 'Parley-written',
};
/** MMLU's high-school mathematics labels have the strong model right on 4% of questions (the weak one on 29%). */
const SUSPECT_SUBJECT = 'mmlu:high_school_mathematics';

/** A ranker candidate in words. */
export function describeCandidate(candidate: ScorerCandidate): string {
  return `${candidate.format === 'freeForm' ? 'free-form' : 'multiple-choice'} ranker: shape scale ${candidate.shapeScale}, n-gram scale ${candidate.ngramScale}${candidate.format === 'multipleChoice' ? `, ${candidate.equalise ? 'benchmarks equalised' : 'raw benchmark rates'}` : ''} (inner APGR ${candidate.apgr.toFixed(4)})`;
}

interface OutOfFold {
  score: Float64Array;
  kind: MessageKind[];
  candidates: Array<{ fold: number; chosen: Record<QuestionFormat, ScorerCandidate> }>;
}

function crossValidate(rows: readonly RoutingRow[], foldSeed: number, log: (line: string) => void): OutOfFold {
  const features = featurize(rows);
  const folds = assignFolds(rows, TRAINING_CONFIG.folds, foldSeed);
  const score = new Float64Array(rows.length);
  const kind = new Array<MessageKind>(rows.length);
  const candidates: OutOfFold['candidates'] = [];
  for (let fold = 0; fold < TRAINING_CONFIG.folds; fold += 1) {
    const started = performance.now();
    const train = rows.map((_, index) => index).filter((index) => folds[index] !== fold);
    const outcome = trainRouterModel(
      rows,
      features,
      train,
      folds,
      [1, 2].map((step) => (fold + step) % TRAINING_CONFIG.folds),
    );
    candidates.push({ chosen: outcome.chosen, fold });
    const scorer = createRoutingScorer(outcome.file);
    rows.forEach((row, index) => {
      if (folds[index] !== fold) return;
      const assessment = scorer.assessText(row.text);
      score[index] = assessment.score;
      kind[index] = assessment.kind;
    });
    log(
      `fold ${fold + 1}/${TRAINING_CONFIG.folds}: ${QUESTION_FORMATS.map((format) => describeCandidate(outcome.chosen[format])).join('; ')} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  return { score, kind, candidates };
}

/** The proposed target's margin over each baseline on the pooled judged prompts. */
const PROPOSED_MARGIN = 0.05;

interface MethodResult {
  apgr: number;
  interval: [number, number];
  /** Bootstrap interval of (this method's APGR - the trained scorer's), paired resamples; undefined for the scorer. */
  differenceInterval?: [number, number];
  cpt50: number;
  cpt80: number;
}

/** APGR, CPT50/80 and paired bootstrap intervals for several score vectors on the same outcomes. */
function compareMethods(
  outcomes: Array<Omit<LabelledOutcome, 'score'>>,
  scores: Record<Method, number[]>,
  samples: number,
  seed: number,
): Record<Method, MethodResult> {
  const withScores = Object.fromEntries(
    METHODS.map((method) => [method, outcomes.map((outcome, index) => ({ ...outcome, score: scores[method][index] }))]),
  ) as Record<Method, LabelledOutcome[]>;
  const orders = Object.fromEntries(METHODS.map((method) => [method, descendingOrder(withScores[method])])) as Record<Method, Uint32Array>;
  const draws: Record<Method, number[]> = Object.fromEntries(METHODS.map((method) => [method, []])) as unknown as Record<Method, number[]>;
  const random = seededRandom(seed);
  const counts = new Float64Array(outcomes.length);
  for (let sample = 0; sample < samples; sample += 1) {
    counts.fill(0);
    for (let draw = 0; draw < outcomes.length; draw += 1) counts[Math.floor(random() * outcomes.length)] += 1;
    for (const method of METHODS) draws[method].push(averageGapRecovered(gapRecoveredCurve(withScores[method], counts, orders[method])));
  }
  const result = {} as Record<Method, MethodResult>;
  for (const method of METHODS) {
    const curve = gapRecoveredCurve(withScores[method], undefined, orders[method]);
    const differences = draws[method].map((value, index) => value - draws['trained scorer'][index]);
    result[method] = {
      apgr: averageGapRecovered(curve),
      interval: [percentile(draws[method], 0.025), percentile(draws[method], 0.975)],
      differenceInterval: method === 'trained scorer' ? undefined : [percentile(differences, 0.025), percentile(differences, 0.975)],
      cpt50: callsToRecover(curve, 0.5),
      cpt80: callsToRecover(curve, 0.8),
    };
  }
  return result;
}

const percent = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;
const fixed = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(3));

/** `--off-policy`: the logged production decisions, not the data sets (see off-policy-report.ts). */
async function offPolicyMain(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOffPolicyArgs>;
  try {
    options = parseOffPolicyArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${OFF_POLICY_USAGE}\n`);
    return 2;
  }
  const config = loadConfigOrExit();
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir, poolSize: 2 });
  try {
    const tenantId = options.tenant ? await resolveTenantId(database.dataSource, options.tenant) : undefined;
    if (options.tenant && !tenantId) {
      process.stderr.write(`No tenant ${options.tenant}\n`);
      return 1;
    }
    const log = await loadLoggedDecisions(database.dataSource, { tenantId, days: options.days });
    const rows = estimateQualities(log.decisions, options.qualities, options.bootstrap);
    const scope = `${tenantId ? `tenant ${options.tenant}` : 'all tenants'}, the last ${options.days} days`;
    process.stdout.write(formatOffPolicyReport(log, rows, scope));
    return 0;
  } finally {
    await database.close();
  }
}

const OFF_POLICY_USAGE =
  'Usage: npm run eval:routing -- --off-policy [--tenant <id|+E164>] [--days N] [--quality 0.3,0.5,0.7] [--bootstrap N]';

function main(): void {
  if (process.argv.includes('--off-policy')) {
    offPolicyMain(process.argv.slice(2)).then(
      (code) => process.exit(code),
      (error) => {
        process.stderr.write(`${(error as Error).stack ?? error}\n`);
        process.exit(1);
      },
    );
    return;
  }
  const { values } = parseArgs({
    options: {
      'fold-seed': { type: 'string' },
      bootstrap: { type: 'string', default: '1000' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const foldSeed = values['fold-seed'] ? Number(values['fold-seed']) : TRAINING_CONFIG.seed;
  const samples = Number(values.bootstrap);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const rows = loadRoutingRows();
  const outOfFold = crossValidate(rows, foldSeed, log);

  const random = seededRandom(TRAINING_CONFIG.seed + 1);
  const randomScores = rows.map(() => random());
  const lengthScores = rows.map((row) => countTextTokens(row.text));
  const regexScores = rows.map((row) => scoreComplexity(extractFeatures([{ role: 'user', content: row.text }])));
  const scoreOf: Record<Method, (index: number) => number> = {
    'trained scorer': (index) => outOfFold.score[index],
    'prompt length (tokens)': (index) => lengthScores[index],
    'regex scorer (complexity.ts)': (index) => regexScores[index],
    random: (index) => randomScores[index],
  };
  const indicesOf = (dataset: DatasetName, keep: (row: RoutingRow) => boolean = () => true) =>
    rows.flatMap((row, index) => (row.dataset === dataset && keep(row) ? [index] : []));

  // Routing quality on the judged benchmarks.
  const quality = new Map<string, Record<Method, MethodResult>>();
  const benchmarkSets: Array<[string, number[]]> = [
    ['GSM8K', indicesOf('gsm8k')],
    ['MMLU', indicesOf('mmlu')],
    // All judged prompts ranked together: a router must also know which benchmark's prompts gain more.
    ['GSM8K + MMLU pooled', [...indicesOf('gsm8k'), ...indicesOf('mmlu')]],
    [`MMLU without high_school_mathematics (sensitivity)`, indicesOf('mmlu', (row) => row.group !== SUSPECT_SUBJECT)],
  ];
  for (const [label, indices] of benchmarkSets) {
    const outcomes = indices.map((index) => ({ weakCorrect: rows[index].weakCorrect, strongCorrect: rows[index].strongCorrect }));
    const scores = Object.fromEntries(METHODS.map((method) => [method, indices.map(scoreOf[method])])) as Record<Method, number[]>;
    quality.set(label, compareMethods(outcomes, scores, samples, TRAINING_CONFIG.seed));
  }

  // The default operating point: the scorer's tiers at the default quality, and the baselines at matched cost.
  const tierShares = (indices: number[]) => {
    const shares: Record<ScoredTier, number> = { cheap: 0, balanced: 0, reasoning: 0 };
    for (const index of indices) shares[tierForScore(outOfFold.score[index], DEFAULT_QUALITY)] += 1 / indices.length;
    return shares;
  };
  const benchmarkIndices = [...indicesOf('gsm8k'), ...indicesOf('mmlu')];
  const scorerStrongShare =
    benchmarkIndices.filter((index) => tierForScore(outOfFold.score[index]) !== 'cheap').length / benchmarkIndices.length;
  // Length at matched cost: the token threshold that sends the same share of GSM8K+MMLU to a stronger tier.
  const sortedLengths = benchmarkIndices.map((index) => lengthScores[index]).sort((left, right) => right - left);
  const lengthThreshold = sortedLengths[Math.max(0, Math.round(scorerStrongShare * sortedLengths.length) - 1)] ?? Number.POSITIVE_INFINITY;
  // The hand-made scorer's cheap threshold before the knob replaced it (thresholds.simple, default 0.3).
  const simpleThreshold = 0.3;
  const cheapShare: Record<Method, (indices: number[]) => number> = {
    'trained scorer': (indices) => tierShares(indices).cheap,
    'prompt length (tokens)': (indices) => indices.filter((index) => lengthScores[index] < lengthThreshold).length / indices.length,
    'regex scorer (complexity.ts)': (indices) => indices.filter((index) => regexScores[index] < simpleThreshold).length / indices.length,
    random: () => 1 - scorerStrongShare,
  };
  const gapAtOperatingPoint = (indices: number[]) => {
    let weak = 0;
    let strong = 0;
    let routed = 0;
    for (const index of indices) {
      const row = rows[index];
      weak += Number(row.weakCorrect);
      strong += Number(row.strongCorrect);
      routed += Number(tierForScore(outOfFold.score[index]) === 'cheap' ? row.weakCorrect : row.strongCorrect);
    }
    return {
      weak: weak / indices.length,
      strong: strong / indices.length,
      routed: routed / indices.length,
      recovered: (routed - weak) / (strong - weak),
    };
  };

  // Message kinds, out of fold.
  const kindRows = (keep: (row: RoutingRow) => boolean) => rows.flatMap((row, index) => (keep(row) ? [index] : []));
  const kindTable = (indices: number[]) =>
    LEARNT_KINDS.map((kind) => {
      const actual = indices.filter((index) => rows[index].kind === kind);
      const predicted = indices.filter((index) => outOfFold.kind[index] === kind);
      const correct = actual.filter((index) => outOfFold.kind[index] === kind).length;
      return {
        kind,
        rows: actual.length,
        predicted: predicted.length,
        recall: actual.length ? correct / actual.length : Number.NaN,
        precision: predicted.length ? correct / predicted.length : Number.NaN,
      };
    });
  const accuracy = (indices: number[]) => indices.filter((index) => outOfFold.kind[index] === rows[index].kind).length / indices.length;
  const publicKindRows = kindRows((row) => row.dataset !== 'parley');
  const parleyKindRows = kindRows((row) => row.dataset === 'parley');

  // The document.
  const thresholds = tierThresholds(DEFAULT_QUALITY);
  const lines: string[] = [];
  const stamp = new Date().toISOString();
  lines.push('# Routing evaluation', '');
  lines.push(
    `Last run: ${stamp} with \`npm run eval:routing${foldSeed !== TRAINING_CONFIG.seed ? ` -- --fold-seed ${foldSeed}` : ''}\` (${((performance.now() - started) / 1000).toFixed(0)} s).`,
  );
  lines.push(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, Node ${process.version}.`, '');
  lines.push(
    'Held-out protocol: grouped 5-fold cross-validation (fold seed ' +
      `${foldSeed}): MMLU by subject, Banking77 and CLINC150 by intent, GSM8K by row. Each fold's model is trained on the other four ` +
      'folds (its ranker candidates chosen on two inner folds of those), quantised to the shipped file format, and scores the held-out fold; ' +
      'the metrics use the pooled out-of-fold scores. APGR: area under the performance-gap-recovered curve as the share of strong calls ' +
      `goes from 0 to 100% (exact curve, ties routed in proportion; random = 0.5). CPT50/CPT80: share of strong calls needed to recover 50%/80% of the gap. Intervals: ${samples} seeded bootstrap resamples of the prompts (percentile 95%); "vs trained" is the paired interval of (baseline - trained scorer).`,
    '',
  );
  lines.push(
    'The scorer (router-model format 2): a gate, P(a question that can need a strong model rather than an everyday request: hashed n-grams and size, trained on every row), times a ranker per question format (multiple choice, two or more answer-option lines: trained on the GSM8K and MMLU rows; free form: trained on the GSM8K rows), each on the soft label (1 + strong right - weak right) / 2 from size, question-shape features and hashed n-grams, and calibrated by a logistic on its logit to P(strong right and weak wrong). Each ranker candidate (shape scale, n-gram scale, and for the multiple-choice one equalised or raw benchmark rates) is chosen per fold on two inner folds of the training rows.',
    '',
  );
  lines.push(
    'Notes. The design (the gate, the rankers per format, the soft label, the shape features, the candidate grids) was explored with fold seed 777 (scripts/routing/explore.ts, and this evaluation with --fold-seed 777) before the run with the default seed; so the design has seen every row through another partition, though no figure of the default partition chose anything. The random row is one seeded draw (its expectation is 0.5). Scores are calibrated to P(strong right and weak wrong) with GSM8K and MMLU re-weighted to one pooled rate (about 20%), so a judged prompt scores near that rate and an everyday message near 0; see the knob table for the shares sent up.',
    '',
  );
  lines.push('## Routing quality on judged prompts (weak Mixtral-8x7B vs strong GPT-4)', '');
  lines.push('| data | method | APGR | APGR 95% interval | baseline - trained, 95% | CPT50 | CPT80 |', '|---|---|---|---|---|---|---|');
  for (const [label, results] of quality) {
    for (const method of METHODS) {
      const result = results[method];
      const difference = result.differenceInterval
        ? `${result.differenceInterval[0].toFixed(3)} to ${result.differenceInterval[1].toFixed(3)}`
        : '';
      lines.push(
        `| ${label} | ${method} | ${fixed(result.apgr)} | ${fixed(result.interval[0])}–${fixed(result.interval[1])} | ${difference} | ${percent(result.cpt50)} | ${percent(result.cpt80)} |`,
      );
    }
  }
  lines.push('', '## Targets (issue 16)', '');
  lines.push('| data | trained APGR | regex + 0.05 | length + 0.02 | met |', '|---|---|---|---|---|');
  for (const [label, results] of [...quality].slice(0, 2)) {
    const regexTarget = results['regex scorer (complexity.ts)'].apgr + 0.05;
    const lengthTarget = results['prompt length (tokens)'].apgr + 0.02;
    const trained = results['trained scorer'].apgr;
    const four = (value: number) => value.toFixed(4);
    lines.push(
      `| ${label} | ${four(trained)} | ${four(regexTarget)} | ${four(lengthTarget)} | ${trained >= regexTarget && trained >= lengthTarget ? 'yes' : `no (short by ${four(Math.max(regexTarget, lengthTarget) - trained)})`} |`,
    );
  }
  const everydayCheap = EVERYDAY.flatMap((dataset) => indicesOf(dataset));
  const everydayShare = cheapShare['trained scorer'](everydayCheap);
  lines.push(`| Banking77 + CLINC150 | ${percent(everydayShare)} cheap | | target >= 95% | ${everydayShare >= 0.95 ? 'yes' : 'no'} |`);
  // The margins above are smaller than the noise of one dataset's comparison (MMLU's paired intervals are about
  // ±0.045 wide): the proposed target asks for a larger margin where it can be measured, on both judged sets pooled.
  const pooled = [...quality].find(([label]) => label.includes('pooled'));
  if (pooled) {
    const [, results] = pooled;
    const trained = results['trained scorer'].apgr;
    lines.push(
      '',
      `Proposed instead of the per-dataset margins (see docs/routing.md): on ${pooled[0]}, the trained scorer ahead of each baseline by at least ${PROPOSED_MARGIN} with the paired 95% interval of the difference above 0.`,
      '',
    );
    lines.push('| baseline | trained - baseline | paired 95% interval | met |', '|---|---|---|---|');
    for (const method of ['prompt length (tokens)', 'regex scorer (complexity.ts)'] as const) {
      const result = results[method];
      if (!result.differenceInterval) continue;
      // differenceInterval is (baseline - trained): flip it.
      const low = -result.differenceInterval[1];
      const high = -result.differenceInterval[0];
      const margin = trained - result.apgr;
      lines.push(
        `| ${method} | ${margin.toFixed(3)} | ${low.toFixed(3)} to ${high.toFixed(3)} | ${margin >= PROPOSED_MARGIN && low > 0 ? 'yes' : 'no'} |`,
      );
    }
  }

  lines.push('', `## Everyday messages: share to the cheap tier at the default operating point`, '');
  lines.push(
    `Trained scorer: default quality ${DEFAULT_QUALITY} (src/llm/routing/quality-knob.ts): cheap when score <= ${thresholds.balanced}, reasoning above ${thresholds.reasoning}. ` +
      `Regex scorer: the router before this change, cheap when score < ${simpleThreshold}. Prompt length and random at matched cost: the same share of GSM8K+MMLU sent to a stronger tier as the trained scorer (${percent(scorerStrongShare)}; length: more than ${lengthThreshold} tokens).`,
    '',
  );
  lines.push(`| data | ${METHODS.join(' | ')} |`, `|---|${METHODS.map(() => '---').join('|')}|`);
  for (const dataset of EVERYDAY) {
    const indices = indicesOf(dataset);
    lines.push(
      `| ${DATASET_LABELS[dataset]} (${indices.length}) | ${METHODS.map((method) => percent(cheapShare[method](indices))).join(' | ')} |`,
    );
  }
  lines.push(`| both (${everydayCheap.length}) | ${METHODS.map((method) => percent(cheapShare[method](everydayCheap))).join(' | ')} |`);

  lines.push('', '## Default operating point of the trained scorer (out of fold)', '');
  lines.push('| data | cheap | balanced | reasoning | accuracy weak / routed / strong | gap recovered |', '|---|---|---|---|---|---|');
  for (const dataset of ['gsm8k', 'mmlu', 'banking77', 'clinc150'] as const) {
    const indices = indicesOf(dataset);
    const shares = tierShares(indices);
    const gap = dataset === 'gsm8k' || dataset === 'mmlu' ? gapAtOperatingPoint(indices) : undefined;
    lines.push(
      `| ${DATASET_LABELS[dataset]} | ${percent(shares.cheap)} | ${percent(shares.balanced)} | ${percent(shares.reasoning)} | ${gap ? `${percent(gap.weak)} / ${percent(gap.routed)} / ${percent(gap.strong)}` : ''} | ${gap ? percent(gap.recovered) : ''} |`,
    );
  }

  lines.push('', '## The knob: share sent above the cheap tier, and gap recovered, per quality setting (out of fold)', '');
  lines.push(
    '| quality | balanced above | GSM8K above cheap | GSM8K gap recovered | MMLU above cheap | MMLU gap recovered | Banking77 + CLINC150 above cheap |',
    '|---|---|---|---|---|---|---|',
  );
  for (const setting of [0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
    const above = (indices: number[]) =>
      indices.filter((index) => tierForScore(outOfFold.score[index], setting) !== 'cheap').length / indices.length;
    const recovered = (indices: number[]) => {
      let gained = 0;
      let gap = 0;
      for (const index of indices) {
        const row = rows[index];
        gap += Number(row.strongCorrect) - Number(row.weakCorrect);
        if (tierForScore(outOfFold.score[index], setting) !== 'cheap') gained += Number(row.strongCorrect) - Number(row.weakCorrect);
      }
      return gained / gap;
    };
    const gsm8k = indicesOf('gsm8k');
    const mmlu = indicesOf('mmlu');
    lines.push(
      `| ${setting}${setting === DEFAULT_QUALITY ? ' (default)' : ''} | ${Number(tierThresholds(setting).balanced.toFixed(4))} | ${percent(above(gsm8k))} | ${percent(recovered(gsm8k))} | ${percent(above(mmlu))} | ${percent(recovered(mmlu))} | ${percent(above(everydayCheap))} |`,
    );
  }

  lines.push('', '## Message kinds (out of fold; held-out intents and subjects)', '');
  lines.push(
    `Public rows: accuracy ${percent(accuracy(publicKindRows))} over ${publicKindRows.length}. Parley-written rows (row-level folds; written by the same team, read as optimistic): accuracy ${percent(accuracy(parleyKindRows))} over ${parleyKindRows.length}. \`long_document\` is a rule (>= ${TRAINING_CONFIG.longDocumentTokens} tokens), and none of the data reaches it. \`complaint\` and \`code\` have no public rows: the learnt model sees a few dozen written ones, and cue rules (a word of dissatisfaction, two programming words; word lists in src/llm/routing/routing-features.ts, written by the same team) override greeting, faq and account.`,
    '',
  );
  lines.push(
    '| kind | public rows | accuracy (recall) | predicted as | precision | Parley-written rows | accuracy (recall) | predicted as | precision |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  const publicKinds = kindTable(publicKindRows);
  const parleyKinds = kindTable(parleyKindRows);
  publicKinds.forEach((entry, position) => {
    const parley = parleyKinds[position];
    const cells = (counts: typeof entry) =>
      [
        counts.rows,
        counts.rows ? percent(counts.recall) : '',
        counts.predicted,
        Number.isNaN(counts.precision) ? '' : percent(counts.precision),
      ].join(' | ');
    lines.push(`| ${entry.kind} | ${cells(entry)} | ${cells(parley)} |`);
  });

  lines.push('', '## Ranker candidate chosen per fold (inner validation)', '');
  lines.push(
    ...outOfFold.candidates.map(
      (candidate) =>
        `- fold ${candidate.fold + 1}: ${QUESTION_FORMATS.map((format) => describeCandidate(candidate.chosen[format])).join('; ')}`,
    ),
    '',
  );
  const document = `${lines.join('\n')}\n`;
  process.stdout.write(document);
  if (!values['no-write']) fs.writeFileSync(path.resolve(__dirname, '..', '..', 'docs', 'routing-eval.md'), document);
}

if (require.main === module) main();
