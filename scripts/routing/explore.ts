/**
 * Design exploration for the router scorer (not part of `npm run train:router` or `npm run eval:routing`): trains
 * float variants on grouped folds of a development fold seed (777 by default, never the reported seed) and prints
 * each variant's out-of-fold APGR on GSM8K and MMLU. Everyday rows are subsampled (their weight is renormalised),
 * which keeps a variant to a few fits of seconds; they do not enter APGR.
 *
 *   nice -n 10 npx tsx scripts/routing/explore.ts [--fold-seed 777] [--variants a,b] [--everyday-stride 4] [--folds 0,1,2,3,4]
 */
import { parseArgs } from 'node:util';
import { DENSE_FEATURE_NAMES } from '../../src/llm/routing/routing-features';
import { averageGapRecovered, gapRecoveredCurve, type LabelledOutcome } from '../../src/llm/routing/routing-metrics';
import { trainBinaryLogistic } from './linear-models';
import { assignFolds, TRAINING_CONFIG } from './router-training';
import { type FeatureMatrix, featurize, loadRoutingRows, type RoutingRow, scorerWeights } from './training-data';

/** The n-gram model's settings in the shipped design before the gated one (router-model format 1). */
const LINEAR = { hashBits: 15, epochs: 5, learningRate: 0.1, l2: 1e-5 };

type LabelName = 'strongOnly' | 'gain' | 'weakWrong' | 'mix';

export interface Variant {
  name: string;
  label: LabelName;
  /** Scale of each group of dense features (0 leaves it out); tokens.log2 is always standardised at 1 unless tokens is set. */
  groups: Partial<Record<'tokens' | 'buckets' | 'handmade' | 'counts' | 'style' | 'language' | 'shape' | 'interactions', number>>;
  ngramScale: number;
  hashBits?: number;
  equalise?: boolean;
  /** Weight of MMLU high_school_mathematics rows in training (1 = as the others). */
  suspectWeight?: number;
  /** Standardise every included dense feature (else only tokens.log2, the others raw x scale). */
  standardiseAll?: boolean;
  epochs?: number;
  /** Train on GSM8K and MMLU rows only (the within-benchmark ranker of a gated design). */
  judgedOnly?: boolean;
  /** Train on this benchmark's rows only (a ranker per question format). */
  onlyDataset?: 'gsm8k' | 'mmlu';
}

const GROUP_OF = (name: string): keyof Variant['groups'] => {
  if (name === 'tokens.log2') return 'tokens';
  if (name.startsWith('tokens.')) return 'buckets';
  if (name.startsWith('complexity.')) return 'handmade';
  if (['numbers.log2', 'mathsSymbols.log2', 'questionMarks', 'newlines.log2'].includes(name)) return 'counts';
  if (name.startsWith('language.')) return 'language';
  if (name.startsWith('shape.')) return 'shape';
  if (name.startsWith('x.')) return 'interactions';
  return 'style';
};

function labelsFor(rows: readonly RoutingRow[], label: LabelName): Float64Array {
  return Float64Array.from(rows, (row) => {
    if (row.dataset !== 'gsm8k' && row.dataset !== 'mmlu') return row.needsStrong;
    const s = Number(row.strongCorrect);
    const w = Number(row.weakCorrect);
    switch (label) {
      case 'strongOnly':
        return s * (1 - w);
      case 'gain':
        return (1 + s - w) / 2;
      case 'weakWrong':
        return 1 - w;
      case 'mix':
        return (s * (1 - w) + (1 - w)) / 2;
    }
  });
}

function weightsFor(rows: readonly RoutingRow[], indices: readonly number[], labels: Float64Array, variant: Variant): Float64Array {
  const subset = scorerWeights(indices.map((index) => rows[index]));
  const weights = new Float64Array(rows.length);
  indices.forEach((row, position) => {
    weights[row] = subset[position] * (rows[row].group === 'mmlu:high_school_mathematics' ? (variant.suspectWeight ?? 1) : 1);
  });
  if (variant.equalise === false) return weights;
  // Equalise the mean label of GSM8K and MMLU (the pooled mean), as router-training.ts does for the binary label.
  const benchmark = indices.filter((row) => rows[row].dataset === 'gsm8k' || rows[row].dataset === 'mmlu');
  const pooled = benchmark.reduce((sum, row) => sum + labels[row], 0) / benchmark.length;
  for (const dataset of ['gsm8k', 'mmlu']) {
    const members = benchmark.filter((row) => rows[row].dataset === dataset);
    const mean = members.reduce((sum, row) => sum + labels[row], 0) / members.length;
    // Soft labels: re-weight rows by how far their label sits on each side of the dataset mean.
    for (const row of members) {
      const high = labels[row] > mean ? 1 : labels[row] < mean ? 0 : 0.5;
      weights[row] *= high === 1 ? pooled / mean : high === 0 ? (1 - pooled) / (1 - mean) : 1;
    }
  }
  return weights;
}

/** The production features (question shape included, routing-features/2) plus a few interactions of size. */
export function extendFeatures(base: FeatureMatrix, rows: readonly RoutingRow[]): { features: FeatureMatrix; names: string[] } {
  const interactionNames = ['x.tokensTimesOptions', 'x.tokensSquared', 'x.tokensTimesDigits'];
  const names = [...DENSE_FEATURE_NAMES, ...interactionNames];
  const width = names.length;
  const dense = new Float64Array(rows.length * width);
  const tokensIndex = DENSE_FEATURE_NAMES.indexOf('tokens.log2');
  const optionsIndex = DENSE_FEATURE_NAMES.indexOf('shape.optionCount');
  const digitsIndex = DENSE_FEATURE_NAMES.indexOf('shape.digitShare');
  rows.forEach((_, index) => {
    const baseRow = base.dense.subarray(index * base.denseWidth, (index + 1) * base.denseWidth);
    dense.set(baseRow, index * width);
    const tokens = baseRow[tokensIndex];
    dense.set(
      [tokens * (baseRow[optionsIndex] > 0 ? 1 : 0), (tokens - 0.5) ** 2, tokens * baseRow[digitsIndex]],
      index * width + base.denseWidth,
    );
  });
  return { features: { ...base, dense, denseWidth: width }, names };
}

function scoresOf(features: FeatureMatrix, weights: ReturnType<typeof trainBinaryLogistic>, indices: readonly number[], hashBits: number) {
  const mask = (1 << hashBits) - 1;
  return Float64Array.from(indices, (row) => {
    let logit = weights.bias;
    for (let feature = 0; feature < features.denseWidth; feature += 1)
      logit += weights.dense[feature] * features.dense[row * features.denseWidth + feature];
    for (let index = features.offsets[row]; index < features.offsets[row + 1]; index += 1)
      logit += weights.table[features.hashes[index] & mask] * features.values[index];
    return logit;
  });
}

/** Trains one variant on `train` and returns logits for `test` (dense features transformed in place of a copy). */
export function fitAndScore(
  rows: readonly RoutingRow[],
  features: FeatureMatrix,
  names: readonly string[],
  variant: Variant,
  trainRows: readonly number[],
  test: readonly number[],
): Float64Array {
  const labels = labelsFor(rows, variant.label);
  const judgedTrain = variant.judgedOnly
    ? trainRows.filter((row) => rows[row].dataset === 'gsm8k' || rows[row].dataset === 'mmlu')
    : trainRows;
  const train = variant.onlyDataset ? judgedTrain.filter((row) => rows[row].dataset === variant.onlyDataset) : judgedTrain;
  const width = features.denseWidth;
  const scale = names.map((name) => variant.groups[GROUP_OF(name)] ?? 0);
  const mean = new Float64Array(width);
  const factor = Float64Array.from(scale);
  for (let feature = 0; feature < width; feature += 1) {
    if (scale[feature] === 0) continue;
    if (!(variant.standardiseAll || names[feature] === 'tokens.log2')) continue;
    let sum = 0;
    for (const row of train) sum += features.dense[row * width + feature];
    mean[feature] = sum / train.length;
    let variance = 0;
    for (const row of train) variance += (features.dense[row * width + feature] - mean[feature]) ** 2;
    const deviation = Math.sqrt(variance / train.length);
    factor[feature] = deviation > 1e-9 ? scale[feature] / deviation : 0;
  }
  const dense = new Float64Array(features.dense.length);
  for (let index = 0; index < dense.length; index += 1) {
    const feature = index % width;
    dense[index] = (features.dense[index] - mean[feature]) * factor[feature];
  }
  const hashBits = variant.hashBits ?? LINEAR.hashBits;
  const transformed = { ...features, dense };
  const weights = trainBinaryLogistic(transformed, train, labels, weightsFor(rows, train, labels, variant), {
    hashBits,
    epochs: variant.epochs ?? LINEAR.epochs,
    learningRate: LINEAR.learningRate,
    l2: LINEAR.l2,
    seed: TRAINING_CONFIG.seed,
    hashedScale: variant.ngramScale,
  });
  return scoresOf(transformed, weights, test, hashBits);
}

export function apgrOf(rows: readonly RoutingRow[], indices: readonly number[], scores: ArrayLike<number>, dataset: string): number {
  const outcomes: LabelledOutcome[] = [];
  indices.forEach((row, position) => {
    if (dataset === 'pooled' ? rows[row].dataset === 'gsm8k' || rows[row].dataset === 'mmlu' : rows[row].dataset === dataset)
      outcomes.push({ score: scores[position], weakCorrect: rows[row].weakCorrect, strongCorrect: rows[row].strongCorrect });
  });
  return averageGapRecovered(gapRecoveredCurve(outcomes));
}

const BASE: Variant = { name: 'shipped design', label: 'strongOnly', groups: { tokens: 1 }, ngramScale: 0.03 };
export const VARIANTS: Variant[] = [
  { ...BASE, name: 'length only (fitted)', ngramScale: 0 },
  { ...BASE, name: 'shipped: tokens + ngram 0.01', ngramScale: 0.01 },
  { ...BASE, name: 'shipped: tokens + ngram 0.03' },
  { ...BASE, name: 'shipped: tokens + ngram 0.1', ngramScale: 0.1 },
  { ...BASE, name: 'tokens + buckets, no ngram', groups: { tokens: 1, buckets: 0.3 }, ngramScale: 0 },
  { ...BASE, name: 'tokens + shape 0.3, no ngram', groups: { tokens: 1, shape: 0.3 }, ngramScale: 0 },
  { ...BASE, name: 'tokens + shape 0.1 std, no ngram', groups: { tokens: 1, shape: 0.1 }, standardiseAll: true, ngramScale: 0 },
  { ...BASE, name: 'tokens + shape 0.3 std, no ngram', groups: { tokens: 1, shape: 0.3 }, standardiseAll: true, ngramScale: 0 },
  {
    ...BASE,
    name: 'tokens + shape 0.3 + counts 0.3 std, no ngram',
    groups: { tokens: 1, shape: 0.3, counts: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  { ...BASE, name: 'tokens + shape 0.3 std + ngram 0.01', groups: { tokens: 1, shape: 0.3 }, standardiseAll: true, ngramScale: 0.01 },
  { ...BASE, name: 'tokens + shape 0.3 std + ngram 0.03', groups: { tokens: 1, shape: 0.3 }, standardiseAll: true },
  {
    ...BASE,
    name: 'tokens + interactions 0.3 std, no ngram',
    groups: { tokens: 1, interactions: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  { ...BASE, name: 'gain label: tokens + ngram 0.03', label: 'gain' },
  { ...BASE, name: 'weakWrong label: tokens + ngram 0.03', label: 'weakWrong' },
  { ...BASE, name: 'mix label: tokens + ngram 0.03', label: 'mix' },
  {
    ...BASE,
    name: 'gain label: tokens + shape 0.3 std, no ngram',
    label: 'gain',
    groups: { tokens: 1, shape: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'weakWrong label: tokens + shape 0.3 std, no ngram',
    label: 'weakWrong',
    groups: { tokens: 1, shape: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  { ...BASE, name: 'suspect weight 0.25: tokens + ngram 0.03', suspectWeight: 0.25 },
  { ...BASE, name: 'no equalisation: tokens + ngram 0.03', equalise: false },
  { ...BASE, name: 'judged only: tokens', judgedOnly: true, ngramScale: 0 },
  { ...BASE, name: 'judged only: tokens + ngram 0.01', judgedOnly: true, ngramScale: 0.01 },
  { ...BASE, name: 'judged only: tokens + ngram 0.03', judgedOnly: true },
  {
    ...BASE,
    name: 'judged only: tokens + shape 0.1 std',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only: tokens + shape 0.3 std',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  { ...BASE, name: 'judged only: tokens + shape 0.03 raw', judgedOnly: true, groups: { tokens: 1, shape: 0.03 }, ngramScale: 0 },
  {
    ...BASE,
    name: 'judged only: tokens + counts 0.1 std',
    judgedOnly: true,
    groups: { tokens: 1, counts: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only: tokens + buckets 0.1 + interactions 0.1 std',
    judgedOnly: true,
    groups: { tokens: 1, buckets: 0.1, interactions: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only gain label: tokens + shape 0.1 std',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  { ...BASE, name: 'judged only gain: tokens', label: 'gain', judgedOnly: true, ngramScale: 0 },
  {
    ...BASE,
    name: 'judged only gain: tokens + shape 0.03 std',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.03 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only gain: tokens + shape 0.3 std',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.3 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only gain: tokens + shape 0.1 std + ngram 0.01',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0.01,
  },
  {
    ...BASE,
    name: 'judged only gain, no equalisation: tokens + shape 0.1 std',
    label: 'gain',
    equalise: false,
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only gain: tokens + shape 0.1 + counts 0.1 std',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1, counts: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only gain, high_school_mathematics weight 0: tokens + shape 0.1 std',
    label: 'gain',
    suspectWeight: 0,
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only strongOnly, high_school_mathematics weight 0: tokens + shape 0.1 std',
    suspectWeight: 0,
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'gain (all rows): tokens + shape 0.1 std',
    label: 'gain',
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'judged only weakWrong: tokens + shape 0.1 std',
    label: 'weakWrong',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.1 },
    standardiseAll: true,
    ngramScale: 0,
  },
  {
    ...BASE,
    name: 'GSM8K only gain: tokens + shape 0.03 std + ngram 0.01',
    label: 'gain',
    judgedOnly: true,
    onlyDataset: 'gsm8k',
    groups: { tokens: 1, shape: 0.03 },
    standardiseAll: true,
    ngramScale: 0.01,
  },
  {
    ...BASE,
    name: 'GSM8K only gain: tokens + shape 0.03 std + ngram 0.03',
    label: 'gain',
    judgedOnly: true,
    onlyDataset: 'gsm8k',
    groups: { tokens: 1, shape: 0.03 },
    standardiseAll: true,
    ngramScale: 0.03,
  },
  {
    ...BASE,
    name: 'GSM8K only gain: tokens + shape 0.03 std + ngram 0.1',
    label: 'gain',
    judgedOnly: true,
    onlyDataset: 'gsm8k',
    groups: { tokens: 1, shape: 0.03 },
    standardiseAll: true,
    ngramScale: 0.1,
  },
  { ...BASE, name: 'GSM8K only strongOnly: tokens + ngram 0.1', judgedOnly: true, onlyDataset: 'gsm8k', ngramScale: 0.1 },
  {
    ...BASE,
    name: 'judged only gain: tokens + shape 0.03 std + ngram 0.03',
    label: 'gain',
    judgedOnly: true,
    groups: { tokens: 1, shape: 0.03 },
    standardiseAll: true,
    ngramScale: 0.03,
  },
];

function main(): void {
  const { values } = parseArgs({
    options: {
      'fold-seed': { type: 'string', default: '777' },
      variants: { type: 'string' },
      'everyday-stride': { type: 'string', default: '4' },
      folds: { type: 'string', default: '0,1,2,3,4' },
    },
  });
  const stride = Number(values['everyday-stride']);
  const all = loadRoutingRows();
  const rows = all.filter((row, index) => !(row.dataset === 'banking77' || row.dataset === 'clinc150') || index % stride === 0);
  const started = performance.now();
  const { features, names } = extendFeatures(featurize(rows), rows);
  process.stderr.write(`${rows.length} rows featurised in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const folds = assignFolds(rows, TRAINING_CONFIG.folds, Number(values['fold-seed']));
  const foldList = values.folds.split(',').map(Number);
  const chosen = values.variants ? values.variants.split(',').map(Number) : VARIANTS.map((_, index) => index);
  for (const variantIndex of chosen) {
    const variant = VARIANTS[variantIndex];
    const variantStarted = performance.now();
    const tested: number[] = [];
    const scores: number[] = [];
    for (const fold of foldList) {
      const train = rows.map((_, index) => index).filter((index) => folds[index] !== fold);
      const test = rows.map((_, index) => index).filter((index) => folds[index] === fold);
      const foldScores = fitAndScore(rows, features, names, variant, train, test);
      tested.push(...test);
      scores.push(...foldScores);
    }
    const everyday = tested.flatMap((row, position) =>
      rows[row].dataset === 'banking77' || rows[row].dataset === 'clinc150' ? [scores[position]] : [],
    );
    const benchmark = tested.flatMap((row, position) =>
      rows[row].dataset === 'gsm8k' || rows[row].dataset === 'mmlu' ? [scores[position]] : [],
    );
    const sortedBenchmark = [...benchmark].sort((left, right) => left - right);
    const median = sortedBenchmark[Math.floor(sortedBenchmark.length / 2)];
    const everydayBelow = everyday.filter((score) => score < median).length / everyday.length;
    const figures = ['gsm8k', 'mmlu', 'pooled'].map((dataset) => apgrOf(rows, tested, scores, dataset));
    const withoutSuspect = tested.flatMap((row, position) => (rows[row].group === 'mmlu:high_school_mathematics' ? [] : [position]));
    const mmluWithout = apgrOf(
      rows,
      withoutSuspect.map((position) => tested[position]),
      withoutSuspect.map((position) => scores[position]),
      'mmlu',
    );
    process.stdout.write(
      `${variantIndex}\t${variant.name}\tGSM8K ${figures[0].toFixed(4)}\tMMLU ${figures[1].toFixed(4)}\tmean ${((figures[0] + figures[1]) / 2).toFixed(4)}\tpooled ${figures[2].toFixed(4)}\tMMLU w/o hs maths ${mmluWithout.toFixed(4)}\teveryday below judged median ${(everydayBelow * 100).toFixed(1)}%\t(${((performance.now() - variantStarted) / 1000).toFixed(0)} s)\n`,
    );
  }
}

if (require.main === module) main();
