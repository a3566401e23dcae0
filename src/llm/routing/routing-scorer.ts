/**
 * The trained router's scorer: a conversation -> the probability that the cheap tier is not good enough for its
 * last customer message, the message's kind, and a language guess, in-process (a few microseconds for a short
 * message, bounded for a long one), from the weights in `router-model.json` (`npm run train:router`).
 *
 * How the router uses it (the integration is the router's, not this module's):
 *
 *   const assessment = defaultRoutingScorer().assess(messages, { complexity: features, tokens: lastMessageTokens });
 *   // assessment.score in [0,1]: P(the cheap tier fails where a stronger one succeeds) for this message.
 *   // assessment.kind: one of MESSAGE_KINDS, the cell for per-(kind, tier) feedback statistics.
 *   // assessment.modelVersion: store it with the decision, beside tier and score.
 *   const tier = tierForScore(assessment.score, quality); // quality-knob.ts; long context, budget and forced
 *                                                         // models stay the router's hard rules, applied first.
 *
 * Passing the complexity features and the last message's exact tokens is optional; the router computes both
 * anyway, and passing them saves the regular expressions and the tokenizer a second run.
 */
import { LEARNT_KINDS, type MessageKind, refineKind, ruleKind } from './message-kinds';
import { type DecodedLinear, decodeRouterModel, type RouterModel } from './router-model';
import {
  createFeatureBuffer,
  DENSE_FEATURE_NAMES,
  extractMessageFeatures,
  type FeatureBuffer,
  type LanguageGuess,
  type PrecomputedSignals,
  viewConversation,
} from './routing-features';
import modelFile from './router-model.json';
import type { ChatMessage } from '../types';

export interface RoutingAssessment {
  /** P(the cheap tier is not good enough) for the last customer message, in [0,1]. */
  score: number;
  /** The score before the conversation-length prior: the last message alone. */
  messageScore: number;
  kind: MessageKind;
  /** The learnt model's probability of `kind` (1 when a rule decided it). */
  kindProbability: number;
  language: LanguageGuess;
  /** Exact tokens of the last customer message. */
  lastMessageTokens: number;
  /** Non-system messages before the last customer message. */
  turnsBefore: number;
  /** The weights' version (a content hash): store it with the decision. */
  modelVersion: string;
}

const CODE_FENCE_INDEX = DENSE_FEATURE_NAMES.indexOf('codeFence');
const OPTION_COUNT_INDEX = DENSE_FEATURE_NAMES.indexOf('shape.optionCount');
/** shape.optionCount holds min(count, 5) / 5. */
const OPTION_COUNT_SCALE = 5;
const DISSATISFACTION_INDEX = DENSE_FEATURE_NAMES.indexOf('cues.dissatisfaction');
const PROGRAMMING_INDEX = DENSE_FEATURE_NAMES.indexOf('cues.programming');
/** The kind loop below is written out for exactly this many kinds. */
const KIND_COUNT = 7;
if (LEARNT_KINDS.length !== KIND_COUNT)
  throw new Error(`routing-scorer.ts sums ${KIND_COUNT} kinds, message-kinds.ts has ${LEARNT_KINDS.length}`);
/** The cue features hold min(count, 3) / 3. */
const CUE_COUNT_SCALE = 3;

/** Scores conversations with one decoded model; not re-entrant (one reusable buffer), which synchronous code never needs. */
export class RoutingScorer {
  readonly modelVersion: string;
  private readonly buffer: FeatureBuffer = createFeatureBuffer();
  private readonly kindLogits = new Float64Array(LEARNT_KINDS.length);

  constructor(private readonly model: RouterModel) {
    this.modelVersion = model.version;
  }

  /** Scores the last customer message of a conversation, with its kind and language. */
  assess(messages: readonly ChatMessage[], precomputed: PrecomputedSignals = {}): RoutingAssessment {
    const view = viewConversation(messages);
    return this.assessText(view.text, view.turnsBefore, precomputed);
  }

  /** The same for a bare message and a number of earlier turns (what the evaluation and the tests call). */
  assessText(text: string, turnsBefore = 0, precomputed: PrecomputedSignals = {}): RoutingAssessment {
    const { model, buffer } = this;
    extractMessageFeatures(text, buffer, precomputed);
    const { hashes, values, length, dense } = buffer;

    // The gate (an everyday request or a question that can need a strong model) times its format's calibrated ranker.
    const gate = sigmoid(linearLogit(model.gate, dense, hashes, values, length));
    const multipleChoice = Math.round(dense[OPTION_COUNT_INDEX] * OPTION_COUNT_SCALE) >= model.file.scorer.multipleChoiceOptions;
    const ranker = multipleChoice ? model.file.scorer.rankers.multipleChoice : model.file.scorer.rankers.freeForm;
    const rankerLogit = linearLogit(multipleChoice ? model.multipleChoiceRanker : model.freeFormRanker, dense, hashes, values, length);
    const ranked = sigmoid(ranker.calibration.slope * rankerLogit + ranker.calibration.intercept);
    const messageScore = gate * ranked;
    const logit = Math.log(Math.max(1e-12, messageScore) / Math.max(1e-12, 1 - messageScore));
    const prior = model.file.conversationPrior;
    const doublings = turnsBefore > prior.fromTurns ? Math.log2(turnsBefore / Math.max(1, prior.fromTurns)) : 0;
    const score = doublings > 0 ? sigmoid(logit + Math.min(prior.maxLogit, prior.logitPerDoubling * doublings)) : messageScore;

    const ruled = ruleKind(text, buffer.tokens, model.file.kinds.longDocumentTokens, dense[CODE_FENCE_INDEX] === 1);
    let kind: MessageKind;
    let kindProbability = 1;
    if (ruled) kind = ruled;
    else {
      const logits = this.kindLogits;
      const kindCount = KIND_COUNT;
      for (let kindIndex = 0; kindIndex < kindCount; kindIndex += 1) {
        let sum = model.file.kinds.bias[kindIndex];
        const weights = model.kindDense[kindIndex];
        for (let index = 0; index < dense.length; index += 1) sum += weights[index] * dense[index];
        logits[kindIndex] = sum;
      }
      // Seven running sums in locals, not an array: this loop is most of the cost of a long message.
      const kindTable = model.kindTable;
      const kindMask = model.kindMask;
      let sum0 = 0;
      let sum1 = 0;
      let sum2 = 0;
      let sum3 = 0;
      let sum4 = 0;
      let sum5 = 0;
      let sum6 = 0;
      for (let index = 0; index < length; index += 1) {
        const base = (hashes[index] & kindMask) * KIND_COUNT;
        const value = values[index];
        sum0 += kindTable[base] * value;
        sum1 += kindTable[base + 1] * value;
        sum2 += kindTable[base + 2] * value;
        sum3 += kindTable[base + 3] * value;
        sum4 += kindTable[base + 4] * value;
        sum5 += kindTable[base + 5] * value;
        sum6 += kindTable[base + 6] * value;
      }
      const scales = model.kindScales;
      logits[0] += sum0 * scales[0];
      logits[1] += sum1 * scales[1];
      logits[2] += sum2 * scales[2];
      logits[3] += sum3 * scales[3];
      logits[4] += sum4 * scales[4];
      logits[5] += sum5 * scales[5];
      logits[6] += sum6 * scales[6];
      let best = 0;
      for (let kindIndex = 1; kindIndex < kindCount; kindIndex += 1) if (logits[kindIndex] > logits[best]) best = kindIndex;
      let normaliser = 0;
      for (let kindIndex = 0; kindIndex < kindCount; kindIndex += 1) normaliser += Math.exp(logits[kindIndex] - logits[best]);
      kind = refineKind(
        LEARNT_KINDS[best],
        Math.round(dense[DISSATISFACTION_INDEX] * CUE_COUNT_SCALE),
        Math.round(dense[PROGRAMMING_INDEX] * CUE_COUNT_SCALE),
      );
      // A cue rule that changed the kind decided it: report the rule's certainty, as for the other rules.
      kindProbability = kind === LEARNT_KINDS[best] ? 1 / normaliser : 1;
    }
    return {
      score,
      messageScore,
      kind,
      kindProbability,
      language: buffer.language,
      lastMessageTokens: buffer.tokens,
      turnsBefore,
      modelVersion: model.version,
    };
  }
}

const sigmoid = (logit: number) => 1 / (1 + Math.exp(-logit));

/** One linear model's logit over a message's dense features and hashed n-grams. */
function linearLogit(linear: DecodedLinear, dense: Float64Array, hashes: Uint32Array, values: Float32Array, length: number): number {
  let logit = linear.bias;
  const weights = linear.dense;
  for (let index = 0; index < dense.length; index += 1) logit += weights[index] * dense[index];
  const table = linear.table;
  const mask = linear.mask;
  let hashedSum = 0;
  for (let index = 0; index < length; index += 1) hashedSum += table[hashes[index] & mask] * values[index];
  return logit + hashedSum * linear.scale;
}

let defaultScorer: RoutingScorer | undefined;

/** The scorer of the committed `router-model.json`, decoded on first use and then shared. */
export function defaultRoutingScorer(): RoutingScorer {
  defaultScorer ??= new RoutingScorer(decodeRouterModel(modelFile));
  return defaultScorer;
}

/** A scorer for another model file (a candidate from training or evaluation). */
export function createRoutingScorer(rawModelFile: unknown): RoutingScorer {
  return new RoutingScorer(decodeRouterModel(rawModelFile));
}
