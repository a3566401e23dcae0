import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../../bench/lib/report';
import { mergeResults, readKeptResults, renderBenchmarksDocument } from '../../bench/lib/results';

const row = (benchmark: string, figure: string, median: number): BenchRow => ({
  benchmark,
  figure,
  unit: 'ms',
  median,
  min: median,
  max: median,
  runs: 1,
});
const ORDER = ['llm', 'aggregate', 'webhook', 'soak', 'tenant-delete', 'memory'];

describe('kept benchmark results', () => {
  const legacy = JSON.stringify({
    machine: 'old machine',
    date: '2026-12-01T18:30:06.789Z',
    command: 'npm run bench --',
    rows: [
      row('llm', 'router p50', 0.01),
      row('webhook ingest, 50 connections', 'ack latency p50', 4),
      row('soak, 200 req/s', 'errors', 0),
    ],
  });

  it('reads a file written before rows named their benchmark, attributing each row to its run', () => {
    const kept = readKeptResults(legacy);
    expect(kept.rows.map((kept) => kept.suite)).toEqual(['llm', 'webhook', 'soak']);
    expect(kept.suites.webhook).toEqual({ date: '2026-12-01T18:30:06.789Z', command: 'npm run bench --', machine: 'old machine' });
  });

  it("replaces only the rows of the benchmarks that ran, keeping the others' rows and runs", () => {
    const run = { date: '2026-12-02T00:00:00.000Z', command: 'npm run bench -- memory webhook', machine: 'new machine' };
    const merged = mergeResults(
      readKeptResults(legacy),
      { memory: [row('memory', 'RSS at end', 200)], webhook: [row('webhook ingest, 50 connections', 'ack latency p50', 5)] },
      run,
      ORDER,
    );
    expect(merged.rows.map((kept) => [kept.suite, kept.median])).toEqual([
      ['llm', 0.01],
      ['webhook', 5],
      ['soak', 0],
      ['memory', 200],
    ]);
    expect(merged.suites.llm.machine).toBe('old machine');
    expect(merged.suites.memory).toEqual(run);
    // What is written reads back the same.
    expect(readKeptResults(JSON.stringify(merged))).toEqual(merged);
  });

  it('renders every kept row, with when and how each benchmark last ran', () => {
    const run = { date: '2026-12-02T00:00:00.000Z', command: 'npm run bench -- memory', machine: 'new machine' };
    const document = renderBenchmarksDocument(
      mergeResults(readKeptResults(legacy), { memory: [row('memory', 'RSS at end', 200)] }, run, ORDER),
      ORDER,
    );
    expect(document).toContain('| llm | 2026-12-01T18:30:06.789Z | `npm run bench --` | old machine |');
    expect(document).toContain('| memory | 2026-12-02T00:00:00.000Z | `npm run bench -- memory` | new machine |');
    expect(document).toContain('| soak, 200 req/s | errors |');
    expect(document).toContain('| memory | RSS at end | 200 ms |');
  });

  it('starts empty without a file', () => {
    expect(readKeptResults(null)).toEqual({ rows: [], suites: {} });
  });
});
