/**
 * Seeded, deterministic training of the router's two linear models on precomputed features: a binary logistic
 * regression (the scorer) and a multinomial one (the kinds). Stochastic gradient descent with AdaGrad step sizes
 * (hashed n-grams are sparse and of very different frequencies; AdaGrad gives rare ones larger steps) and L2
 * shrinkage applied to the weights a row touches. The row order of each epoch comes from a seeded generator, and
 * everything is plain float64 arithmetic in a fixed order, so the same data, options and seed give the same bytes.
 */
import { seededRandom } from '../../src/llm/routing/routing-metrics';
import type { FeatureMatrix } from './training-data';

export interface LinearTrainingOptions {
  hashBits: number;
  /**
   * Multiplies every hashed feature's value. AdaGrad's steps do not depend on a feature's scale, so a feature
   * scaled by s moves the logit s times more slowly: over a fixed number of epochs, a prior that keeps the n-gram
   * weights small (1 = no shrinkage). The exported table is multiplied by it, so scoring needs no change.
   */
  hashedScale?: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export interface BinaryModelWeights {
  bias: number;
  dense: Float64Array;
  table: Float64Array;
}

export interface MultinomialModelWeights {
  bias: Float64Array;
  /** dense[kind * denseWidth + feature] */
  dense: Float64Array;
  /** table[slot * classes + kind] (interleaved, like the scorer reads it) */
  table: Float64Array;
  classes: number;
}

const ADAGRAD_EPSILON = 1e-8;

/**
 * The visiting order of one epoch: each row repeated ceil(weight) times (weight spread over the repeats, so a
 * heavily up-weighted row takes several moderate steps rather than one huge one), shuffled by the seeded generator.
 */
function epochOrder(
  rowIndices: ArrayLike<number>,
  weights: ArrayLike<number>,
  random: () => number,
): { order: Uint32Array; stepWeight: Float64Array } {
  let visits = 0;
  for (let position = 0; position < rowIndices.length; position += 1) visits += Math.max(1, Math.ceil(weights[rowIndices[position]]));
  const order = new Uint32Array(visits);
  const stepWeight = new Float64Array(visits);
  let cursor = 0;
  for (let position = 0; position < rowIndices.length; position += 1) {
    const row = rowIndices[position];
    const repeats = Math.max(1, Math.ceil(weights[row]));
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      order[cursor] = row;
      stepWeight[cursor] = weights[row] / repeats;
      cursor += 1;
    }
  }
  for (let index = visits - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    const row = order[index];
    order[index] = order[other];
    order[other] = row;
    const weight = stepWeight[index];
    stepWeight[index] = stepWeight[other];
    stepWeight[other] = weight;
  }
  return { order, stepWeight };
}

/** Trains the binary scorer on the given rows, labels (0/1 per row) and weights (per row). */
export function trainBinaryLogistic(
  features: FeatureMatrix,
  rowIndices: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
  options: LinearTrainingOptions,
): BinaryModelWeights {
  const { offsets, hashes, values, dense, denseWidth } = features;
  const size = 1 << options.hashBits;
  const mask = size - 1;
  const table = new Float64Array(size);
  const tableSquares = new Float64Array(size);
  const denseWeights = new Float64Array(denseWidth);
  const denseSquares = new Float64Array(denseWidth);
  let bias = 0;
  let biasSquares = 0;
  const { learningRate, l2 } = options;
  const hashedScale = options.hashedScale ?? 1;
  const random = seededRandom(options.seed);
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    const { order, stepWeight } = epochOrder(rowIndices, weights, random);
    for (let step = 0; step < order.length; step += 1) {
      const row = order[step];
      const start = offsets[row];
      const end = offsets[row + 1];
      const denseStart = row * denseWidth;
      let logit = bias;
      for (let feature = 0; feature < denseWidth; feature += 1) logit += denseWeights[feature] * dense[denseStart + feature];
      for (let index = start; index < end; index += 1) logit += table[hashes[index] & mask] * values[index] * hashedScale;
      const gradient = stepWeight[step] * (1 / (1 + Math.exp(-logit)) - labels[row]);
      biasSquares += gradient * gradient;
      bias -= (learningRate * gradient) / (Math.sqrt(biasSquares) + ADAGRAD_EPSILON);
      for (let feature = 0; feature < denseWidth; feature += 1) {
        const value = dense[denseStart + feature];
        if (value === 0) continue;
        const featureGradient = gradient * value + l2 * denseWeights[feature];
        denseSquares[feature] += featureGradient * featureGradient;
        denseWeights[feature] -= (learningRate * featureGradient) / (Math.sqrt(denseSquares[feature]) + ADAGRAD_EPSILON);
      }
      for (let index = start; index < end; index += 1) {
        const slot = hashes[index] & mask;
        const featureGradient = gradient * values[index] * hashedScale + l2 * table[slot];
        tableSquares[slot] += featureGradient * featureGradient;
        table[slot] -= (learningRate * featureGradient) / (Math.sqrt(tableSquares[slot]) + ADAGRAD_EPSILON);
      }
    }
  }
  if (hashedScale !== 1) for (let slot = 0; slot < size; slot += 1) table[slot] *= hashedScale;
  return { bias, dense: denseWeights, table };
}

/** Trains the multinomial kind model; `classOf[row]` is the row's class index. */
export function trainMultinomialLogistic(
  features: FeatureMatrix,
  rowIndices: ArrayLike<number>,
  classOf: ArrayLike<number>,
  classes: number,
  weights: ArrayLike<number>,
  options: LinearTrainingOptions,
): MultinomialModelWeights {
  const { offsets, hashes, values, dense, denseWidth } = features;
  const size = 1 << options.hashBits;
  const mask = size - 1;
  const table = new Float64Array(size * classes);
  const tableSquares = new Float64Array(size * classes);
  const denseWeights = new Float64Array(classes * denseWidth);
  const denseSquares = new Float64Array(classes * denseWidth);
  const bias = new Float64Array(classes);
  const biasSquares = new Float64Array(classes);
  const logits = new Float64Array(classes);
  const gradients = new Float64Array(classes);
  const { learningRate, l2 } = options;
  const random = seededRandom(options.seed);
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    const { order, stepWeight } = epochOrder(rowIndices, weights, random);
    for (let step = 0; step < order.length; step += 1) {
      const row = order[step];
      const start = offsets[row];
      const end = offsets[row + 1];
      const denseStart = row * denseWidth;
      for (let kind = 0; kind < classes; kind += 1) {
        let sum = bias[kind];
        for (let feature = 0; feature < denseWidth; feature += 1)
          sum += denseWeights[kind * denseWidth + feature] * dense[denseStart + feature];
        logits[kind] = sum;
      }
      for (let index = start; index < end; index += 1) {
        const base = (hashes[index] & mask) * classes;
        const value = values[index];
        for (let kind = 0; kind < classes; kind += 1) logits[kind] += table[base + kind] * value;
      }
      let largest = logits[0];
      for (let kind = 1; kind < classes; kind += 1) largest = Math.max(largest, logits[kind]);
      let normaliser = 0;
      for (let kind = 0; kind < classes; kind += 1) normaliser += Math.exp(logits[kind] - largest);
      for (let kind = 0; kind < classes; kind += 1) {
        gradients[kind] = stepWeight[step] * (Math.exp(logits[kind] - largest) / normaliser - (classOf[row] === kind ? 1 : 0));
        biasSquares[kind] += gradients[kind] * gradients[kind];
        bias[kind] -= (learningRate * gradients[kind]) / (Math.sqrt(biasSquares[kind]) + ADAGRAD_EPSILON);
      }
      for (let feature = 0; feature < denseWidth; feature += 1) {
        const value = dense[denseStart + feature];
        if (value === 0) continue;
        for (let kind = 0; kind < classes; kind += 1) {
          const position = kind * denseWidth + feature;
          const featureGradient = gradients[kind] * value + l2 * denseWeights[position];
          denseSquares[position] += featureGradient * featureGradient;
          denseWeights[position] -= (learningRate * featureGradient) / (Math.sqrt(denseSquares[position]) + ADAGRAD_EPSILON);
        }
      }
      for (let index = start; index < end; index += 1) {
        const base = (hashes[index] & mask) * classes;
        const value = values[index];
        for (let kind = 0; kind < classes; kind += 1) {
          const position = base + kind;
          const featureGradient = gradients[kind] * value + l2 * table[position];
          tableSquares[position] += featureGradient * featureGradient;
          table[position] -= (learningRate * featureGradient) / (Math.sqrt(tableSquares[position]) + ADAGRAD_EPSILON);
        }
      }
    }
  }
  return { bias, dense: denseWeights, table, classes };
}
