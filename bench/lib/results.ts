/**
 * The kept results (bench/results/latest.json): the newest rows of every benchmark, each with the run it came from.
 * Running some benchmarks replaces their rows and keeps the others', so `npm run bench -- memory` does not erase
 * the webhook figures; docs/benchmarks.md is rendered from the merged rows.
 */
import { type BenchRow, toMarkdown } from './report';

/** A row as kept: which benchmark (the `npm run bench -- <name>` name) produced it. */
export interface KeptRow extends BenchRow {
  suite: string;
}

/** When, how and where a benchmark last ran. */
export interface SuiteRun {
  date: string;
  command: string;
  machine: string;
}

export interface KeptResults {
  rows: KeptRow[];
  suites: Record<string, SuiteRun>;
}

/** The benchmark name of a row written before rows carried one (the only names those files held). */
function legacySuite(row: BenchRow): string {
  if (row.benchmark === 'llm') return 'llm';
  if (row.benchmark.startsWith('daily aggregation')) return 'aggregate';
  if (row.benchmark.startsWith('webhook ingest')) return 'webhook';
  if (row.benchmark.startsWith('soak')) return 'soak';
  return row.benchmark;
}

/** Reads latest.json as written by this version or the ones before it (one run for every row); empty when absent. */
export function readKeptResults(text: string | null): KeptResults {
  if (!text) return { rows: [], suites: {} };
  const parsed = JSON.parse(text) as Partial<KeptResults> & Partial<SuiteRun> & { rows?: Array<BenchRow & { suite?: string }> };
  const rows = (parsed.rows ?? []).map((row) => ({ ...row, suite: row.suite ?? legacySuite(row) }));
  const suites: Record<string, SuiteRun> = { ...(parsed.suites ?? {}) };
  for (const row of rows) {
    if (!suites[row.suite] && parsed.date)
      suites[row.suite] = { date: parsed.date, command: parsed.command ?? '', machine: parsed.machine ?? '' };
  }
  return { rows, suites };
}

/** The kept results with the benchmarks of this run replaced, in `order` (names not in it last). */
export function mergeResults(kept: KeptResults, fresh: Record<string, BenchRow[]>, run: SuiteRun, order: string[]): KeptResults {
  const rows: KeptRow[] = kept.rows.filter((row) => !(row.suite in fresh));
  const suites = { ...kept.suites };
  for (const [suite, suiteRows] of Object.entries(fresh)) {
    rows.push(...suiteRows.map((row) => ({ ...row, suite })));
    suites[suite] = run;
  }
  const rank = (suite: string) => (order.includes(suite) ? order.indexOf(suite) : order.length);
  // Array.prototype.sort is stable: rows keep their order within a benchmark.
  rows.sort((left, right) => rank(left.suite) - rank(right.suite));
  return { rows, suites };
}

/** docs/benchmarks.md: when and how each benchmark last ran, then every kept row. */
export function renderBenchmarksDocument(results: KeptResults, order: string[]): string {
  const names = Object.keys(results.suites).sort((left, right) => {
    const rank = (suite: string) => (order.includes(suite) ? order.indexOf(suite) : order.length);
    return rank(left) - rank(right);
  });
  const runs = names.map((name) => {
    const run = results.suites[name];
    return `| ${name} | ${run.date} | \`${run.command}\` | ${run.machine} |`;
  });
  return [
    '# Benchmarks',
    '',
    "Each benchmark keeps the figures of its last run; `npm run bench -- <name>` replaces that benchmark's rows only.",
    'The machines are shared and noisy: read medians and in-run ratios, not absolute numbers.',
    '',
    '| benchmark | last run | command | machine |',
    '|---|---|---|---|',
    ...runs,
    '',
    toMarkdown(results.rows),
    '',
  ].join('\n');
}
