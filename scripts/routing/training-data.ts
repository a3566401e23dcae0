/**
 * The routing data (data/routing/) as rows for training and evaluation, with their labels, weights, groups and
 * precomputed features. The only reader of those files.
 *
 * Scorer label, "the cheap tier is not good enough": on GSM8K and MMLU, 1 when the strong model answered correctly
 * and the weak one did not, else 0. That is the event routing to the strong tier fixes; "the weak model was wrong"
 * would also count questions neither model answers, where paying for the strong tier buys nothing (13% of MMLU, 10%
 * of GSM8K). Ranking by P(strong right, weak wrong) is ranking by the expected quality gained per strong call,
 * less the rarer case the weak model is right and the strong one wrong, which has no usable signal at this size.
 * Everyday customer messages (Banking77, CLINC150) are 0: a cheap model answers an intent-level request; together
 * they weigh as much as the two benchmarks together, so the 29k of them do not drown the 5k judged prompts.
 * Parley-written rows carry their own label (`needs_strong`: code and multi-step analysis 1, the rest 0: our judgement,
 * not a measurement) and weigh like one everyday row each, so 149 written lines cannot outweigh the judged data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LearntKind } from '../../src/llm/routing/message-kinds';
import { LEARNT_KINDS } from '../../src/llm/routing/message-kinds';
import { createFeatureBuffer, DENSE_FEATURE_NAMES, extractMessageFeatures } from '../../src/llm/routing/routing-features';
import { banking77Kind, clinc150Kind, mmluKind } from './kind-mapping';

export const DATA_DIRECTORY = path.resolve(__dirname, '..', '..', 'data', 'routing');
export const DATASETS = ['gsm8k', 'mmlu', 'banking77', 'clinc150', 'parley'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const DATA_FILES: Readonly<Record<DatasetName, string>> = {
  gsm8k: 'gsm8k.jsonl.gz',
  mmlu: 'mmlu.jsonl.gz',
  banking77: 'banking77.jsonl.gz',
  clinc150: 'clinc150.jsonl.gz',
  parley: 'parley-written.jsonl',
};

export interface RoutingRow {
  dataset: DatasetName;
  /** Rows of one group are held out together: MMLU subject, intent; GSM8K and Parley rows are their own group. */
  group: string;
  text: string;
  /** Whether each model answered correctly (GSM8K and MMLU; false elsewhere, where no model was judged). */
  weakCorrect: boolean;
  strongCorrect: boolean;
  kind: LearntKind;
  /** Scorer label: 1 when the cheap tier is not good enough. */
  needsStrong: 0 | 1;
}

/** Reads every data file (gzip or plain JSON Lines). */
export function loadRoutingRows(directory = DATA_DIRECTORY): RoutingRow[] {
  const read = (name: DatasetName) => {
    const file = path.join(directory, DATA_FILES[name]);
    const raw = fs.readFileSync(file);
    const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const rows: RoutingRow[] = [];
  read('gsm8k').forEach((row, index) => {
    rows.push({
      dataset: 'gsm8k',
      group: `gsm8k:${index}`,
      text: String(row.prompt),
      weakCorrect: row.weak_correct === true,
      strongCorrect: row.strong_correct === true,
      kind: 'maths',
      needsStrong: labelOf(row),
    });
  });
  for (const row of read('mmlu')) {
    const subject = String(row.subject);
    rows.push({
      dataset: 'mmlu',
      group: `mmlu:${subject}`,
      text: String(row.prompt),
      weakCorrect: row.weak_correct === true,
      strongCorrect: row.strong_correct === true,
      kind: mmluKind(subject),
      needsStrong: labelOf(row),
    });
  }
  for (const row of read('banking77'))
    rows.push({
      dataset: 'banking77',
      group: `banking77:${row.intent}`,
      text: String(row.text),
      weakCorrect: false,
      strongCorrect: false,
      kind: banking77Kind(String(row.intent)),
      needsStrong: 0,
    });
  for (const row of read('clinc150'))
    rows.push({
      dataset: 'clinc150',
      group: `clinc150:${row.intent}`,
      text: String(row.text),
      weakCorrect: false,
      strongCorrect: false,
      kind: clinc150Kind(String(row.intent)),
      needsStrong: 0,
    });
  read('parley').forEach((row, index) => {
    const kind = String(row.kind) as LearntKind;
    if (!LEARNT_KINDS.includes(kind)) throw new Error(`parley-written.jsonl row ${index + 1}: unknown kind ${kind}`);
    rows.push({
      dataset: 'parley',
      group: `parley:${index}`,
      text: String(row.text),
      weakCorrect: false,
      strongCorrect: false,
      kind,
      needsStrong: row.needs_strong === 1 ? 1 : 0,
    });
  });
  return rows;
}

const labelOf = (row: Record<string, unknown>): 0 | 1 => (row.strong_correct === true && row.weak_correct !== true ? 1 : 0);

/** Scorer weight of each row (see the module comment): everyday and Parley-written rows share the benchmarks' total weight. */
export function scorerWeights(rows: readonly RoutingRow[]): Float64Array {
  const benchmark = rows.filter((row) => row.dataset === 'gsm8k' || row.dataset === 'mmlu').length;
  const everyday = rows.filter((row) => row.dataset === 'banking77' || row.dataset === 'clinc150').length;
  // Parley-written rows take the everyday rows' per-row weight without adding to their total.
  const everydayWeight = everyday ? benchmark / everyday : 0;
  return Float64Array.from(rows, (row) => (row.dataset === 'gsm8k' || row.dataset === 'mmlu' ? 1 : everydayWeight));
}

/**
 * Kind weight of each row: kinds with fewer than KIND_WEIGHT_TARGET rows are up-weighted towards it (at most
 * KIND_WEIGHT_CAP times), so complaints and code, with a few dozen written rows each, are not ignored.
 */
export function kindWeights(rows: readonly RoutingRow[]): Float64Array {
  const counts = new Map<LearntKind, number>();
  for (const row of rows) counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
  return Float64Array.from(rows, (row) => Math.min(KIND_WEIGHT_CAP, Math.max(1, KIND_WEIGHT_TARGET / (counts.get(row.kind) ?? 1))));
}
const KIND_WEIGHT_TARGET = 1000;
const KIND_WEIGHT_CAP = 20;

/** Every row's features, stored once (compressed sparse rows) and shared by all trainings. */
export interface FeatureMatrix {
  rows: number;
  offsets: Uint32Array;
  hashes: Uint32Array;
  values: Float32Array;
  dense: Float64Array;
  denseWidth: number;
  tokens: Uint32Array;
}

/** Featurises every row with the production feature extractor. */
export function featurize(rows: readonly RoutingRow[]): FeatureMatrix {
  const buffer = createFeatureBuffer();
  const denseWidth = DENSE_FEATURE_NAMES.length;
  const offsets = new Uint32Array(rows.length + 1);
  const dense = new Float64Array(rows.length * denseWidth);
  const tokens = new Uint32Array(rows.length);
  const hashParts: Uint32Array[] = [];
  const valueParts: Float32Array[] = [];
  let total = 0;
  rows.forEach((row, index) => {
    extractMessageFeatures(row.text, buffer);
    hashParts.push(buffer.hashes.slice(0, buffer.length));
    valueParts.push(buffer.values.slice(0, buffer.length));
    dense.set(buffer.dense, index * denseWidth);
    tokens[index] = buffer.tokens;
    total += buffer.length;
    offsets[index + 1] = total;
  });
  const hashes = new Uint32Array(total);
  const values = new Float32Array(total);
  hashParts.forEach((part, index) => {
    hashes.set(part, offsets[index]);
    values.set(valueParts[index], offsets[index]);
  });
  return { rows: rows.length, offsets, hashes, values, dense, denseWidth, tokens };
}
