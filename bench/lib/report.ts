/** Benchmark results: one row per figure, printed as a Markdown table and kept as JSON. */
import os from 'node:os';

export interface BenchRow {
  benchmark: string;
  figure: string;
  unit: string;
  /** Median over runs. */
  median: number;
  /** Spread over runs: min and max. */
  min: number;
  max: number;
  runs: number;
  /** The in-run baseline's median, when the figure has one. */
  baseline?: number;
  baselineLabel?: string;
  /** median / baseline. */
  ratio?: number;
  target?: string;
  meetsTarget?: boolean;
}

/** Median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Value at quantile q (0..1), nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Builds a row from per-run samples. */
export function summarize(
  benchmark: string,
  figure: string,
  unit: string,
  samples: number[],
  extra: Partial<Pick<BenchRow, 'baselineLabel' | 'target'>> & { baselineSamples?: number[]; meets?: (median: number) => boolean } = {},
): BenchRow {
  const row: BenchRow = {
    benchmark,
    figure,
    unit,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    runs: samples.length,
  };
  if (extra.baselineSamples?.length) {
    row.baseline = median(extra.baselineSamples);
    row.baselineLabel = extra.baselineLabel;
    row.ratio = row.baseline === 0 ? undefined : row.median / row.baseline;
  }
  if (extra.target) {
    row.target = extra.target;
    row.meetsTarget = extra.meets?.(row.median);
  }
  return row;
}

const format = (value: number | undefined) =>
  value === undefined ? '' : Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);

/** The machine the figures come from. */
export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** Renders rows as a Markdown table. */
export function toMarkdown(rows: BenchRow[]): string {
  const header =
    '| benchmark | figure | median | spread (min–max) | runs | baseline (in-run) | ratio | target | met |\n|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (row) =>
      `| ${row.benchmark} | ${row.figure} | ${format(row.median)} ${row.unit} | ${format(row.min)}–${format(row.max)} | ${row.runs} | ${
        row.baseline === undefined ? '' : `${format(row.baseline)} ${row.unit} (${row.baselineLabel ?? ''})`
      } | ${row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}×`} | ${row.target ?? ''} | ${row.meetsTarget === undefined ? '' : row.meetsTarget ? 'yes' : 'NO'} |`,
  );
  return [header, ...lines].join('\n');
}
