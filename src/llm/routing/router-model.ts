/**
 * The router's weights file (`router-model.json`): its schema, its version and its decoding. The scorer is two
 * kinds of linear model: a gate, P(the message is a question of the kind that can need a strong model, not an
 * everyday request), trained on every row; and two rankers, one per question format (multiple choice: at least
 * `multipleChoiceOptions` answer-option lines; free form: the rest), each trained on the judged prompts of its
 * format only (MMLU; GSM8K), whose logit orders them by how much a strong model gains over a weak one, mapped by
 * its `calibration` (a logistic on the logit) to P(the strong model right and the weak one wrong). The score is the
 * product P(gate) x calibrated ranker: low for everyday requests whatever their shape, and among judged-like
 * questions in their ranker's order. The hashed weight
 * tables are stored as int8 with one scale per table, base64-encoded, which keeps the file under 200 KB; they are
 * decoded once at load into Float32Arrays. The version is a hash of everything else in the file (weights, feature
 * set, training configuration), so two files with the same version score identically; the router stores it with
 * each decision. The tables stay int8 in memory (32 KB and 56 KB: they stay in the CPU's caches, where Float32
 * copies, four times larger, made the lookups of a long message miss), and the scale is applied once per sum.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LEARNT_KINDS } from './message-kinds';
import { DENSE_FEATURE_NAMES, FEATURE_SET_VERSION } from './routing-features';

export const ROUTER_MODEL_FORMAT = 'parley-router-model/2';

const hashedTableSchema = z.object({
  /** log2 of the table size: a feature's slot is its hash's low `bits` bits. */
  bits: z.number().int().min(8).max(20),
  /** Weight = int8 value x scale. */
  scale: z.number().positive(),
  base64: z.string(),
});

const linearSchema = z.object({ bias: z.number(), dense: z.array(z.number()), hashed: hashedTableSchema });

const rankerSchema = linearSchema.extend({
  /** P = sigmoid(slope x logit + intercept); slope > 0, so the ranker's order is kept. */
  calibration: z.object({ slope: z.number().positive(), intercept: z.number() }),
});

/** One linear model of the scorer, decoded. */
export interface DecodedLinear {
  bias: number;
  dense: Float64Array;
  /** int8 weights; weight = value x scale. */
  table: Int8Array;
  scale: number;
  mask: number;
}

export const routerModelSchema = z.object({
  format: z.literal(ROUTER_MODEL_FORMAT),
  version: z.string(),
  featureSet: z.literal(FEATURE_SET_VERSION),
  denseFeatures: z.array(z.string()),
  /** How the file was made: data (with hashes), labels, hyper-parameters, seed. Documentation; part of the version. */
  training: z.record(z.string(), z.unknown()),
  scorer: z.object({
    gate: linearSchema,
    rankers: z.object({ freeForm: rankerSchema, multipleChoice: rankerSchema }),
    /** A message with at least this many answer-option lines ("A. ...") is ranked by the multiple-choice ranker. */
    multipleChoiceOptions: z.number().int().positive(),
  }),
  /**
   * No labelled multi-turn data exists, so conversation length enters with a hand-set prior, not a learnt weight:
   * `logitPerDoubling` per doubling of the earlier turns beyond `fromTurns`, at most `maxLogit`.
   */
  conversationPrior: z.object({ fromTurns: z.number().int().min(0), logitPerDoubling: z.number().min(0), maxLogit: z.number().min(0) }),
  kinds: z.object({
    names: z.array(z.string()),
    bias: z.array(z.number()),
    dense: z.array(z.array(z.number())),
    hashed: z.array(hashedTableSchema),
    longDocumentTokens: z.number().int().positive(),
  }),
});

export type RouterModelFile = z.infer<typeof routerModelSchema>;

/** A validated model with its tables decoded. */
export interface RouterModel {
  file: RouterModelFile;
  version: string;
  gate: DecodedLinear;
  freeFormRanker: DecodedLinear;
  multipleChoiceRanker: DecodedLinear;
  kindDense: Float64Array[];
  /** The kinds' int8 tables interleaved (slot x kind + kind), so one pass over a message's hashes reads all kinds. */
  kindTable: Int8Array;
  kindScales: Float64Array;
  kindMask: number;
}

/** The version string of a model file: a hash of its content without the version field (keys sorted, so order is no matter). */
export function routerModelVersion(file: Omit<RouterModelFile, 'version'> & { version?: string }): string {
  const { version: _ignored, ...content } = file;
  return `router-${createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 12)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined);
    return `{${entries
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Validates and decodes a model file; throws listing what is wrong (a stale feature set, a bad version, sizes). */
export function decodeRouterModel(raw: unknown): RouterModel {
  const file = routerModelSchema.parse(raw);
  const problems: string[] = [];
  if (JSON.stringify(file.denseFeatures) !== JSON.stringify(DENSE_FEATURE_NAMES))
    problems.push('dense feature names differ from this code');
  for (const [part, linear] of [
    ['gate', file.scorer.gate],
    ['free-form ranker', file.scorer.rankers.freeForm],
    ['multiple-choice ranker', file.scorer.rankers.multipleChoice],
  ] as const)
    if (linear.dense.length !== DENSE_FEATURE_NAMES.length) problems.push(`scorer ${part} dense weights have the wrong length`);
  if (JSON.stringify(file.kinds.names) !== JSON.stringify(LEARNT_KINDS)) problems.push('kind names differ from this code');
  if (file.kinds.dense.some((weights) => weights.length !== DENSE_FEATURE_NAMES.length))
    problems.push('kind dense weights have the wrong length');
  if (file.kinds.hashed.length !== LEARNT_KINDS.length || file.kinds.bias.length !== LEARNT_KINDS.length)
    problems.push('kind tables do not match the kinds');
  if (new Set(file.kinds.hashed.map((table) => table.bits)).size > 1) problems.push('kind tables differ in size');
  if (routerModelVersion(file) !== file.version)
    problems.push(`version ${file.version} does not match the content (${routerModelVersion(file)})`);
  if (problems.length) throw new Error(`Invalid router model: ${problems.join('; ')}`);
  return {
    file,
    version: file.version,
    gate: decodeLinear(file.scorer.gate),
    freeFormRanker: decodeLinear(file.scorer.rankers.freeForm),
    multipleChoiceRanker: decodeLinear(file.scorer.rankers.multipleChoice),
    kindDense: file.kinds.dense.map((weights) => Float64Array.from(weights)),
    kindTable: interleave(file.kinds.hashed.map(decodeTable)),
    kindScales: Float64Array.from(file.kinds.hashed, (table) => table.scale),
    kindMask: (1 << file.kinds.hashed[0].bits) - 1,
  };
}

/** Quantises a weight table to int8 with one scale (largest magnitude -> 127), for the file. */
export function encodeTable(weights: ArrayLike<number>, bits: number): z.infer<typeof hashedTableSchema> {
  if (weights.length !== 1 << bits) throw new Error(`table of ${weights.length} weights is not 2^${bits}`);
  let largest = 0;
  for (let index = 0; index < weights.length; index += 1) largest = Math.max(largest, Math.abs(weights[index]));
  const scale = largest > 0 ? largest / 127 : 1;
  const bytes = new Int8Array(weights.length);
  for (let index = 0; index < weights.length; index += 1) bytes[index] = Math.round(weights[index] / scale);
  return { bits, scale: Number(scale.toPrecision(9)), base64: Buffer.from(bytes.buffer).toString('base64') };
}

function decodeLinear(linear: z.infer<typeof linearSchema>): DecodedLinear {
  return {
    bias: linear.bias,
    dense: Float64Array.from(linear.dense),
    table: decodeTable(linear.hashed),
    scale: linear.hashed.scale,
    mask: (1 << linear.hashed.bits) - 1,
  };
}

function decodeTable(table: z.infer<typeof hashedTableSchema>): Int8Array {
  const bytes = Buffer.from(table.base64, 'base64');
  if (bytes.length !== 1 << table.bits) throw new Error(`Invalid router model: a table holds ${bytes.length} weights, not 2^${table.bits}`);
  return new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

function interleave(tables: Int8Array[]): Int8Array {
  const interleaved = new Int8Array(tables.length * tables[0].length);
  tables.forEach((table, kind) => {
    for (let slot = 0; slot < table.length; slot += 1) interleaved[slot * tables.length + kind] = table[slot];
  });
  return interleaved;
}
