/**
 * One training of the router model from a set of rows: the configuration fixed up front, the grouped folds, the
 * choice of the scorer's L2 strength on an inner validation fold, and the weights file. Shared by
 * `npm run train:router` (all rows) and `npm run eval:routing` (each outer fold's training rows).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LEARNT_KINDS } from '../../src/llm/routing/message-kinds';
import { encodeTable, ROUTER_MODEL_FORMAT, type RouterModelFile, routerModelVersion } from '../../src/llm/routing/router-model';
import { DENSE_FEATURE_NAMES, FEATURE_SET_VERSION } from '../../src/llm/routing/routing-features';
import { averageGapRecovered, gapRecoveredCurve, type LabelledOutcome, seededRandom } from '../../src/llm/routing/routing-metrics';
import { type BinaryModelWeights, type MultinomialModelWeights, trainBinaryLogistic, trainMultinomialLogistic } from './linear-models';
import { DATA_DIRECTORY, DATA_FILES, DATASETS, type FeatureMatrix, kindWeights, type RoutingRow, scorerWeights } from './training-data';

/**
 * Every hyper-parameter, fixed before the reported evaluation run (the design was explored with another fold seed),
 * except the scorer's two shrinkage scales, chosen from `scorer.candidates` by the mean APGR over GSM8K and MMLU
 * on two inner validation folds of the training rows: `ngramScale` multiplies the hashed n-gram features and
 * `denseScale` the dense features other than the size in tokens (see `hashedScale` in linear-models.ts: a smaller
 * scale keeps those weights closer to zero; 0 leaves the feature out).
 */
export const TRAINING_CONFIG = {
  seed: 20261202,
  folds: 5,
  scorer: {
    hashBits: 15,
    epochs: 5,
    learningRate: 0.1,
    l2: 1e-5,
    candidates: { ngramScale: [0.01, 0.03, 0.1, 0.3], denseScale: [0, 0.1] },
    /** Kept at scale 1: the one dense signal that ranks judged prompts on its own (prompt length). */
    unshrunkDense: ['tokens.log2'],
  },
  kinds: { hashBits: 13, epochs: 4, learningRate: 0.1, l2: 1e-5 },
  /** Hand-set (no multi-turn labels exist): +0.2 logit per doubling of earlier turns beyond 2, at most +0.8. */
  conversationPrior: { fromTurns: 2, logitPerDoubling: 0.2, maxLogit: 0.8 },
  /** Messages of at least this many tokens are long documents (a rule; the public sets have none). */
  longDocumentTokens: 2000,
} as const;

/**
 * Fold of every row (0..folds-1): whole groups per fold, so a held-out fold holds MMLU subjects and intents not seen
 * in training. Within each data set, groups are shuffled with the seed and then each goes to the fold with the fewest
 * rows of that data set so far, which keeps folds of similar size even with one large group (CLINC150's `oos`).
 */
export function assignFolds(rows: readonly RoutingRow[], folds: number, seed: number): Int8Array {
  const fold = new Int8Array(rows.length);
  const random = seededRandom(seed);
  for (const dataset of DATASETS) {
    const groups = new Map<string, number[]>();
    rows.forEach((row, index) => {
      if (row.dataset !== dataset) return;
      const members = groups.get(row.group);
      if (members) members.push(index);
      else groups.set(row.group, [index]);
    });
    const names = [...groups.keys()].sort();
    for (let index = names.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [names[index], names[other]] = [names[other], names[index]];
    }
    // Largest groups first (stable for equal sizes), so the greedy balance works.
    const ordered = names
      .map((name, position) => ({ members: groups.get(name) ?? [], position }))
      .sort((left, right) => right.members.length - left.members.length || left.position - right.position);
    const sizes = new Array<number>(folds).fill(0);
    for (const { members } of ordered) {
      let smallest = 0;
      for (let candidate = 1; candidate < folds; candidate += 1) if (sizes[candidate] < sizes[smallest]) smallest = candidate;
      for (const index of members) fold[index] = smallest;
      sizes[smallest] += members.length;
    }
  }
  return fold;
}

/** Logistic scores of rows under float weights in the raw feature space (the inner validation's scores). */
export function binaryScores(
  features: FeatureMatrix,
  weights: BinaryModelWeights,
  rowIndices: readonly number[],
  hashBits: number,
): Float64Array {
  const mask = (1 << hashBits) - 1;
  return Float64Array.from(rowIndices, (row) => {
    let logit = weights.bias;
    for (let feature = 0; feature < features.denseWidth; feature += 1)
      logit += weights.dense[feature] * features.dense[row * features.denseWidth + feature];
    for (let index = features.offsets[row]; index < features.offsets[row + 1]; index += 1)
      logit += weights.table[features.hashes[index] & mask] * features.values[index];
    return 1 / (1 + Math.exp(-logit));
  });
}

/** Mean APGR over GSM8K and MMLU of scores for the given rows. */
export function meanBenchmarkApgr(rows: readonly RoutingRow[], rowIndices: readonly number[], scores: ArrayLike<number>): number {
  const values: number[] = [];
  for (const dataset of ['gsm8k', 'mmlu'] as const) {
    const outcomes: LabelledOutcome[] = [];
    rowIndices.forEach((row, position) => {
      if (rows[row].dataset === dataset)
        outcomes.push({ score: scores[position], weakCorrect: rows[row].weakCorrect, strongCorrect: rows[row].strongCorrect });
    });
    if (outcomes.length) values.push(averageGapRecovered(gapRecoveredCurve(outcomes)));
  }
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Dense features enter as (x - mean) x factor; `toRawSpace` folds that back into the weights, so the file's weights
 * apply to the raw features the scorer computes. The unshrunk size feature is standardised (centred, it is learnt
 * in few steps); the others stay on their raw [0,1] scale, multiplied by the shrinkage scale: standardising a rare
 * indicator (a language seen in ten written rows) would blow it up and let a handful of rows set a large weight.
 */
interface DenseTransform {
  mean: Float64Array;
  factor: Float64Array;
}

function denseTransform(
  features: FeatureMatrix,
  rowIndices: readonly number[],
  scales: ArrayLike<number>,
  standardise: ReadonlySet<number>,
): DenseTransform {
  const width = features.denseWidth;
  const mean = new Float64Array(width);
  const factor = Float64Array.from({ length: width }, (_, feature) => scales[feature]);
  for (const feature of standardise) {
    let sum = 0;
    for (const row of rowIndices) sum += features.dense[row * width + feature];
    mean[feature] = sum / rowIndices.length;
    let variance = 0;
    for (const row of rowIndices) variance += (features.dense[row * width + feature] - mean[feature]) ** 2;
    const deviation = Math.sqrt(variance / rowIndices.length);
    factor[feature] = deviation > 1e-9 ? scales[feature] / deviation : 0;
  }
  return { mean, factor };
}

function transformed(features: FeatureMatrix, transform: DenseTransform): FeatureMatrix {
  const width = features.denseWidth;
  const dense = new Float64Array(features.dense.length);
  for (let row = 0; row < features.rows; row += 1) {
    for (let feature = 0; feature < width; feature += 1)
      dense[row * width + feature] = (features.dense[row * width + feature] - transform.mean[feature]) * transform.factor[feature];
  }
  return { ...features, dense };
}

function toRawSpace(weights: BinaryModelWeights, transform: DenseTransform): BinaryModelWeights {
  const dense = weights.dense.map((weight, feature) => weight * transform.factor[feature]);
  let bias = weights.bias;
  dense.forEach((weight, feature) => {
    bias -= weight * transform.mean[feature];
  });
  return { bias, dense, table: weights.table };
}

function multinomialToRawSpace(weights: MultinomialModelWeights, transform: DenseTransform, width: number): MultinomialModelWeights {
  const dense = weights.dense.map((weight, position) => weight * transform.factor[position % width]);
  const bias = weights.bias.map((value, kind) => {
    let adjusted = value;
    for (let feature = 0; feature < width; feature += 1) adjusted -= dense[kind * width + feature] * transform.mean[feature];
    return adjusted;
  });
  return { ...weights, bias, dense };
}

/**
 * Scorer weight of each row in `indices` (the array is indexed by row; others stay 0): everyday rows together weigh
 * as much as the benchmarks (training-data.ts), and within GSM8K and within MMLU, positives and negatives are
 * re-weighted so that both benchmarks have the same (pooled) positive rate. Their raw rates, 29% and 17%, say which
 * benchmark a prompt came from rather than what makes a prompt hard; left in, the n-grams learn "looks like a word
 * problem -> strong" from the difference alone, which ranks MMLU's mathematics subjects (where the strong model does
 * no better than the weak one) first.
 */
function scorerWeightsFor(rows: readonly RoutingRow[], indices: readonly number[]): Float64Array {
  const subsetWeights = scorerWeights(indices.map((index) => rows[index]));
  const weights = new Float64Array(rows.length);
  indices.forEach((row, position) => {
    weights[row] = subsetWeights[position];
  });
  const benchmark = indices.filter((row) => rows[row].dataset === 'gsm8k' || rows[row].dataset === 'mmlu');
  const pooledRate = benchmark.filter((row) => rows[row].needsStrong).length / Math.max(1, benchmark.length);
  for (const dataset of ['gsm8k', 'mmlu'] as const) {
    const members = benchmark.filter((row) => rows[row].dataset === dataset);
    const positives = members.filter((row) => rows[row].needsStrong).length;
    if (positives === 0 || positives === members.length) continue;
    for (const row of members)
      weights[row] *= rows[row].needsStrong
        ? (pooledRate * members.length) / positives
        : ((1 - pooledRate) * members.length) / (members.length - positives);
  }
  return weights;
}

export interface ScorerCandidate {
  ngramScale: number;
  denseScale: number;
  /** Inner validation APGR: mean of GSM8K and MMLU, averaged over the inner folds. */
  apgr: number;
}

export interface TrainingOutcome {
  file: RouterModelFile;
  chosen: ScorerCandidate;
  validation: ScorerCandidate[];
}

/** Trains the scorer (choosing its scales on `validationFolds`) and the kind model on `trainIndices`, and builds the file. */
export function trainRouterModel(
  rows: readonly RoutingRow[],
  features: FeatureMatrix,
  trainIndices: readonly number[],
  folds: Int8Array,
  validationFolds: readonly number[],
): TrainingOutcome {
  const config = TRAINING_CONFIG;
  const labels = Uint8Array.from(rows, (row) => row.needsStrong);
  const unshrunk = new Set<number>(config.scorer.unshrunkDense.map((name) => DENSE_FEATURE_NAMES.indexOf(name)));
  const scalesFor = (denseScale: number) => DENSE_FEATURE_NAMES.map((_, feature) => (unshrunk.has(feature) ? 1 : denseScale));
  const fitScorer = (indices: readonly number[], ngramScale: number, denseScale: number) => {
    const transform = denseTransform(features, indices, scalesFor(denseScale), unshrunk);
    const options = {
      hashBits: config.scorer.hashBits,
      epochs: config.scorer.epochs,
      learningRate: config.scorer.learningRate,
      l2: config.scorer.l2,
      seed: config.seed,
      hashedScale: ngramScale,
    };
    return toRawSpace(
      trainBinaryLogistic(transformed(features, transform), indices, labels, scorerWeightsFor(rows, indices), options),
      transform,
    );
  };

  const splits = validationFolds.map((fold) => ({
    train: trainIndices.filter((row) => folds[row] !== fold),
    validation: trainIndices.filter((row) => folds[row] === fold),
  }));
  const validation: ScorerCandidate[] = [];
  for (const ngramScale of config.scorer.candidates.ngramScale) {
    for (const denseScale of config.scorer.candidates.denseScale) {
      let apgr = 0;
      for (const split of splits) {
        const weights = fitScorer(split.train, ngramScale, denseScale);
        apgr +=
          meanBenchmarkApgr(rows, split.validation, binaryScores(features, weights, split.validation, config.scorer.hashBits)) /
          splits.length;
      }
      validation.push({ ngramScale, denseScale, apgr });
    }
  }
  const chosen = validation.reduce((best, candidate) => (candidate.apgr > best.apgr ? candidate : best));
  const scorer = fitScorer(trainIndices, chosen.ngramScale, chosen.denseScale);

  const classOf = Uint8Array.from(rows, (row) => LEARNT_KINDS.indexOf(row.kind));
  const kindSubsetWeights = kindWeights(trainIndices.map((index) => rows[index]));
  const kindWeightByRow = new Float64Array(rows.length);
  trainIndices.forEach((row, position) => {
    kindWeightByRow[row] = kindSubsetWeights[position];
  });
  const kindTransform = denseTransform(
    features,
    trainIndices,
    DENSE_FEATURE_NAMES.map(() => 1),
    new Set(),
  );
  const kinds = multinomialToRawSpace(
    trainMultinomialLogistic(transformed(features, kindTransform), trainIndices, classOf, LEARNT_KINDS.length, kindWeightByRow, {
      ...config.kinds,
      seed: config.seed,
    }),
    kindTransform,
    features.denseWidth,
  );

  const counts: Record<string, number> = {};
  for (const index of trainIndices) counts[rows[index].dataset] = (counts[rows[index].dataset] ?? 0) + 1;
  const round = (value: number) => Number(value.toPrecision(6));
  const file = buildModelFile(scorer, kinds, {
    command: 'npm run train:router',
    data: dataFingerprints(),
    rowsPerDataset: counts,
    scorerLabel:
      'GSM8K/MMLU: 1 when the strong model was right and the weak one wrong, positives re-weighted to one pooled rate per benchmark; Banking77/CLINC150: 0, together weighing as much as the benchmarks; Parley-written: needs_strong',
    kindLabels:
      'intent -> kind table (scripts/routing/kind-mapping.ts), GSM8K -> maths, MMLU -> maths or analysis by subject, Parley-written kind',
    seed: config.seed,
    scorer: {
      ...config.scorer,
      chosen: { ngramScale: chosen.ngramScale, denseScale: chosen.denseScale },
      innerValidation: validation.map((entry) => ({ ...entry, apgr: round(entry.apgr) })),
    },
    kinds: config.kinds,
  });
  return { file, chosen, validation };
}

/** The weights file: quantised tables, rounded dense weights, the training description, and the content version. */
export function buildModelFile(
  scorer: BinaryModelWeights,
  kinds: MultinomialModelWeights,
  training: Record<string, unknown>,
): RouterModelFile {
  const round = (value: number) => Number(value.toPrecision(6));
  const denseWidth = DENSE_FEATURE_NAMES.length;
  const kindTable = (kind: number) => {
    const size = kinds.table.length / kinds.classes;
    const table = new Float64Array(size);
    for (let slot = 0; slot < size; slot += 1) table[slot] = kinds.table[slot * kinds.classes + kind];
    return table;
  };
  const content: Omit<RouterModelFile, 'version'> = {
    format: ROUTER_MODEL_FORMAT,
    featureSet: FEATURE_SET_VERSION,
    denseFeatures: [...DENSE_FEATURE_NAMES],
    training,
    scorer: {
      bias: round(scorer.bias),
      dense: Array.from(scorer.dense, round),
      hashed: encodeTable(scorer.table, Math.log2(scorer.table.length)),
    },
    conversationPrior: { ...TRAINING_CONFIG.conversationPrior },
    kinds: {
      names: [...LEARNT_KINDS],
      bias: Array.from(kinds.bias, round),
      dense: LEARNT_KINDS.map((_, kind) => Array.from(kinds.dense.subarray(kind * denseWidth, (kind + 1) * denseWidth), round)),
      hashed: LEARNT_KINDS.map((_, kind) => encodeTable(kindTable(kind), Math.log2(kinds.table.length / kinds.classes))),
      longDocumentTokens: TRAINING_CONFIG.longDocumentTokens,
    },
  };
  const { format, ...rest } = content;
  // The format and version go first in the file, where a reader looks for them.
  return { format, version: routerModelVersion(content), ...rest };
}

/** SHA-256 (first 16 hex digits) of each data file, so the version changes when the data does. */
export function dataFingerprints(): Record<string, string> {
  return Object.fromEntries(
    Object.values(DATA_FILES).map((name) => [
      name,
      createHash('sha256')
        .update(fs.readFileSync(path.join(DATA_DIRECTORY, name)))
        .digest('hex')
        .slice(0, 16),
    ]),
  );
}
