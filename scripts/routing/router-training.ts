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
 * Every hyper-parameter, fixed before the reported evaluation run (the design was explored with another fold seed,
 * scripts/routing/explore.ts), except each ranker's candidate, chosen by its format's APGR on two inner validation
 * folds of the training rows.
 *
 * The scorer is a gate times a calibrated ranker per question format (router-model.ts):
 * - gate: P(a question that can need a strong model rather than an everyday request), hashed n-grams and size,
 *   trained on every row (GSM8K, MMLU 1; Banking77, CLINC150 0; Parley-written rows their needs_strong), the two
 *   sides weighing alike;
 * - rankers: multiple choice (trained on GSM8K and MMLU rows, optionally re-weighted to one mean label: `equalise`)
 *   and free form (GSM8K rows), each trained on judged prompts only, on
 *   the soft label (1 + strong right - weak right) / 2, whose expectation is a monotone function of the expected
 *   gain of a strong call, what APGR ranks by; size in tokens, the question-shape features (each standardised, then
 *   multiplied by `shapeScale`: a smaller scale keeps their weights closer to zero) and hashed n-grams
 *   (`ngramScale`, 0 = none). With the design seed, word problems ranked best with a model of their own (its
 *   n-grams), exam questions with one that learns from both;
 * - calibration: per ranker, a logistic on its logit fitted to "strong right and weak wrong" on the inner
 *   validation folds' held-out logits, so the score is P(the cheap tier is not good enough) at each format's rate.
 */
export const TRAINING_CONFIG = {
  seed: 20261202,
  folds: 5,
  gate: { hashBits: 15, epochs: 5, learningRate: 0.1, l2: 1e-5, ngramScale: 0.1, dense: ['tokens.log2'] },
  ranker: {
    hashBits: 14,
    epochs: 5,
    learningRate: 0.1,
    l2: 1e-5,
    label: '(1 + strong_correct - weak_correct) / 2',
    dense: ['tokens.log2'],
    scaledDense: 'shape.',
    /** Two or more answer-option lines ("A. ...") make a multiple-choice question. */
    multipleChoiceOptions: 2,
    candidates: {
      freeForm: { shapeScale: [0.03, 0.1], ngramScale: [0.01, 0.03, 0.1], equalise: [false] },
      multipleChoice: { shapeScale: [0.03, 0.1], ngramScale: [0, 0.01], equalise: [true, false] },
    },
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

/** Logits of rows under float weights in the raw feature space (the inner validation's scores). */
export function binaryLogits(
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
    return logit;
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

const isBenchmark = (row: RoutingRow) => row.dataset === 'gsm8k' || row.dataset === 'mmlu';

/** The ranker's soft label: 1 strong right and weak wrong, 0.5 both or neither, 0 weak right and strong wrong. */
export function rankerLabel(row: RoutingRow): number {
  return (1 + Number(row.strongCorrect) - Number(row.weakCorrect)) / 2;
}

/**
 * Weights (indexed by row) that give GSM8K and MMLU the same mean label among `indices`: within each, rows above its
 * mean label are scaled by pooled / mean and rows below by (1 - pooled) / (1 - mean). Their raw rates say which
 * benchmark a prompt came from rather than what makes a prompt hard.
 */
function equalisedWeights(rows: readonly RoutingRow[], indices: readonly number[], labels: ArrayLike<number>): Float64Array {
  const weights = Float64Array.from(rows, () => 1);
  const benchmark = indices.filter((row) => isBenchmark(rows[row]));
  const pooled = benchmark.reduce((sum, row) => sum + labels[row], 0) / Math.max(1, benchmark.length);
  for (const dataset of ['gsm8k', 'mmlu'] as const) {
    const members = benchmark.filter((row) => rows[row].dataset === dataset);
    const mean = members.reduce((sum, row) => sum + labels[row], 0) / Math.max(1, members.length);
    if (!(mean > 0 && mean < 1)) continue;
    for (const row of members) {
      if (labels[row] > mean) weights[row] *= pooled / mean;
      else if (labels[row] < mean) weights[row] *= (1 - pooled) / (1 - mean);
    }
  }
  return weights;
}

/** 1-D weighted logistic regression of labels on logits by Newton's method (deterministic): the calibration. */
export function fitCalibration(
  logits: readonly number[],
  labels: readonly number[],
  weights: readonly number[],
): { slope: number; intercept: number } {
  let slope = 1;
  let intercept = 0;
  for (let iteration = 0; iteration < 50; iteration += 1) {
    let gradientSlope = 0;
    let gradientIntercept = 0;
    let hessianSS = 1e-6;
    let hessianSI = 0;
    let hessianII = 1e-6;
    for (let index = 0; index < logits.length; index += 1) {
      const probability = 1 / (1 + Math.exp(-(slope * logits[index] + intercept)));
      const residual = weights[index] * (probability - labels[index]);
      const curvature = weights[index] * probability * (1 - probability);
      gradientSlope += residual * logits[index];
      gradientIntercept += residual;
      hessianSS += curvature * logits[index] * logits[index];
      hessianSI += curvature * logits[index];
      hessianII += curvature;
    }
    const determinant = hessianSS * hessianII - hessianSI * hessianSI;
    if (!(determinant > 0)) break;
    const stepSlope = (hessianII * gradientSlope - hessianSI * gradientIntercept) / determinant;
    const stepIntercept = (hessianSS * gradientIntercept - hessianSI * gradientSlope) / determinant;
    slope -= stepSlope;
    intercept -= stepIntercept;
    if (Math.abs(stepSlope) + Math.abs(stepIntercept) < 1e-10) break;
  }
  // The ranker's order must survive: a non-positive slope (a ranker no better than chance) becomes a flat, tiny one.
  return slope > 1e-3 ? { slope, intercept } : { slope: 1e-3, intercept };
}

export const QUESTION_FORMATS = ['freeForm', 'multipleChoice'] as const;
export type QuestionFormat = (typeof QUESTION_FORMATS)[number];

export interface ScorerCandidate {
  format: QuestionFormat;
  shapeScale: number;
  ngramScale: number;
  /** Re-weight GSM8K and MMLU to one mean label (the multiple-choice ranker, which learns from both). */
  equalise: boolean;
  /** Inner validation APGR of the ranker on the judged prompts it learns from (mean over benchmarks and inner folds). */
  apgr: number;
}

interface RankerWeights {
  weights: BinaryModelWeights;
  calibration: { slope: number; intercept: number };
}

export interface TrainingOutcome {
  file: RouterModelFile;
  chosen: Record<QuestionFormat, ScorerCandidate>;
  validation: ScorerCandidate[];
}

/** Trains the gate, the ranker (choosing its candidate on `validationFolds`), the calibration and the kind model. */
export function trainRouterModel(
  rows: readonly RoutingRow[],
  features: FeatureMatrix,
  trainIndices: readonly number[],
  folds: Int8Array,
  validationFolds: readonly number[],
): TrainingOutcome {
  const config = TRAINING_CONFIG;
  const names = DENSE_FEATURE_NAMES;
  const fitLinear = (
    indices: readonly number[],
    labels: ArrayLike<number>,
    weights: Float64Array,
    scales: number[],
    options: { hashBits: number; epochs: number; learningRate: number; l2: number; ngramScale: number },
  ) => {
    const standardise = new Set(scales.flatMap((scale, feature) => (scale > 0 ? [feature] : [])));
    const transform = denseTransform(features, indices, scales, standardise);
    return toRawSpace(
      trainBinaryLogistic(transformed(features, transform), indices, labels, weights, {
        hashBits: options.hashBits,
        epochs: options.epochs,
        learningRate: options.learningRate,
        l2: options.l2,
        seed: config.seed,
        hashedScale: options.ngramScale,
      }),
      transform,
    );
  };

  // The gate.
  const gateLabels = Float64Array.from(rows, (row) => (isBenchmark(row) ? 1 : row.needsStrong));
  const gateWeights = new Float64Array(rows.length);
  const subsetWeights = scorerWeights(trainIndices.map((index) => rows[index]));
  trainIndices.forEach((row, position) => {
    gateWeights[row] = subsetWeights[position];
  });
  const gateScales = names.map((name) => ((config.gate.dense as readonly string[]).includes(name) ? 1 : 0));
  const gate = fitLinear(trainIndices, gateLabels, gateWeights, gateScales, config.gate);

  const round = (value: number) => Number(value.toPrecision(6));
  // The rankers, each with its candidate chosen on the inner folds and its calibration from their held-out logits.
  const rankerLabels = Float64Array.from(rows, rankerLabel);
  const calibrationLabels = Float64Array.from(rows, (row) => Number(row.strongCorrect && !row.weakCorrect));
  const ones = Float64Array.from(rows, () => 1);
  const optionCount = names.indexOf('shape.optionCount');
  const formatOf = (row: number): QuestionFormat =>
    Math.round(features.dense[row * features.denseWidth + optionCount] * 5) >= config.ranker.multipleChoiceOptions
      ? 'multipleChoice'
      : 'freeForm';
  const rankerScales = (shapeScale: number) =>
    names.map((name) =>
      (config.ranker.dense as readonly string[]).includes(name) ? 1 : name.startsWith(config.ranker.scaledDense) ? shapeScale : 0,
    );
  // The multiple-choice ranker learns from every judged prompt (it ranked MMLU best so; one trained on MMLU alone
  // did worse, with the design seed); the free-form one from the free-form prompts (GSM8K) alone.
  const rankerRows = (indices: readonly number[], format: QuestionFormat) =>
    indices.filter((row) => isBenchmark(rows[row]) && (format === 'multipleChoice' || formatOf(row) === format));
  const fitRanker = (indices: readonly number[], candidate: Omit<ScorerCandidate, 'apgr'>) => {
    const trainRows = rankerRows(indices, candidate.format);
    return fitLinear(
      trainRows,
      rankerLabels,
      candidate.equalise ? equalisedWeights(rows, trainRows, rankerLabels) : ones,
      rankerScales(candidate.shapeScale),
      { ...config.ranker, ngramScale: candidate.ngramScale },
    );
  };
  const validation: ScorerCandidate[] = [];
  const chosen = {} as Record<QuestionFormat, ScorerCandidate>;
  const rankers = {} as Record<QuestionFormat, RankerWeights>;
  for (const format of QUESTION_FORMATS) {
    const splits = validationFolds.map((fold) => ({
      train: trainIndices.filter((row) => folds[row] !== fold),
      validation: rankerRows(
        trainIndices.filter((row) => folds[row] === fold),
        format,
      ),
    }));
    let best: { candidate: ScorerCandidate; heldOut: number[] } | undefined;
    for (const shapeScale of config.ranker.candidates[format].shapeScale)
      for (const ngramScale of config.ranker.candidates[format].ngramScale)
        for (const equalise of config.ranker.candidates[format].equalise) {
          let apgr = 0;
          const heldOut: number[] = [];
          for (const split of splits) {
            const weights = fitRanker(split.train, { format, shapeScale, ngramScale, equalise });
            const logits = binaryLogits(features, weights, split.validation, config.ranker.hashBits);
            heldOut.push(...logits);
            apgr += meanBenchmarkApgr(rows, split.validation, logits) / splits.length;
          }
          const candidate = { format, shapeScale, ngramScale, equalise, apgr };
          validation.push(candidate);
          if (!best || apgr > best.candidate.apgr) best = { candidate, heldOut };
        }
    if (!best) throw new Error(`no ranker candidate for ${format}`);
    chosen[format] = best.candidate;
    // Calibrated on the held-out prompts of its own format, at their own rate.
    const heldOutRows = splits.flatMap((split) => split.validation);
    const ownFormat = heldOutRows.flatMap((row, position) => (formatOf(row) === format ? [position] : []));
    const calibration = fitCalibration(
      ownFormat.map((position) => best.heldOut[position]),
      ownFormat.map((position) => calibrationLabels[heldOutRows[position]]),
      ownFormat.map(() => 1),
    );
    rankers[format] = {
      weights: fitRanker(trainIndices, best.candidate),
      calibration: { slope: round(calibration.slope), intercept: round(calibration.intercept) },
    };
  }

  const classOf = Uint8Array.from(rows, (row) => LEARNT_KINDS.indexOf(row.kind));
  const kindSubsetWeights = kindWeights(trainIndices.map((index) => rows[index]));
  const kindWeightByRow = new Float64Array(rows.length);
  trainIndices.forEach((row, position) => {
    kindWeightByRow[row] = kindSubsetWeights[position];
  });
  // The kinds keep the features they were designed with: the question-shape features are the rankers'.
  const kindTransform = denseTransform(
    features,
    trainIndices,
    DENSE_FEATURE_NAMES.map((name) => (name.startsWith('shape.') ? 0 : 1)),
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
  const file = buildModelFile({ gate, rankers, multipleChoiceOptions: config.ranker.multipleChoiceOptions }, kinds, {
    command: 'npm run train:router',
    data: dataFingerprints(),
    rowsPerDataset: counts,
    scorerLabels: {
      gate: 'GSM8K/MMLU 1; Banking77/CLINC150 0, together weighing as much as the benchmarks; Parley-written: needs_strong',
      rankers: 'free form: GSM8K rows; multiple choice: GSM8K and MMLU rows; (1 + strong_correct - weak_correct) / 2',
      calibration: "strong right and weak wrong, on the inner folds' held-out ranker logits of the ranker's own format",
    },
    kindLabels:
      'intent -> kind table (scripts/routing/kind-mapping.ts), GSM8K -> maths, MMLU -> maths or analysis by subject, Parley-written kind',
    seed: config.seed,
    gate: config.gate,
    ranker: {
      ...config.ranker,
      chosen: Object.fromEntries(
        QUESTION_FORMATS.map((format) => [format, { shapeScale: chosen[format].shapeScale, ngramScale: chosen[format].ngramScale }]),
      ),
      innerValidation: validation.map((entry) => ({ ...entry, apgr: round(entry.apgr) })),
    },
    kinds: config.kinds,
  });
  return { file, chosen, validation };
}

/** The weights file: quantised tables, rounded dense weights, the training description, and the content version. */
export function buildModelFile(
  scorer: { gate: BinaryModelWeights; rankers: Record<QuestionFormat, RankerWeights>; multipleChoiceOptions: number },
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
      gate: linearContent(scorer.gate),
      rankers: {
        freeForm: { ...linearContent(scorer.rankers.freeForm.weights), calibration: scorer.rankers.freeForm.calibration },
        multipleChoice: { ...linearContent(scorer.rankers.multipleChoice.weights), calibration: scorer.rankers.multipleChoice.calibration },
      },
      multipleChoiceOptions: scorer.multipleChoiceOptions,
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

function linearContent(weights: BinaryModelWeights) {
  const round = (value: number) => Number(value.toPrecision(6));
  return {
    bias: round(weights.bias),
    dense: Array.from(weights.dense, round),
    hashed: encodeTable(weights.table, Math.log2(weights.table.length)),
  };
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
