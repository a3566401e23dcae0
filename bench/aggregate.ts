/**
 * Daily aggregation: the one-statement SQL aggregation (percentile_cont ... GROUP BY ... ON CONFLICT) over 10k,
 * 100k and 1M provider_usage rows in one day on local PostgreSQL, beside the naive way (load every row of the
 * day, group and sort latencies in JavaScript) in the same run. Both must agree on the figures.
 *   npm run bench -- aggregate [--runs 3] [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { openDatabase } from '../src/db/data-source';
import { aggregateDay } from '../src/tracking/daily-usage-summaries';
import { addDays, utcDay } from '../src/tracking/utc-days';
import { summarize, type BenchRow } from './lib/report';

const DATABASE = 'parley_bench_aggregate';
const SIZES = [10_000, 100_000, 1_000_000];

export interface AggregateBenchOptions {
  durationSeconds: number;
  runs: number;
  serverUrl: string;
  sizes?: number[];
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** N usage rows spread over one UTC day: 2 providers x 3 models, 5% failures, 2% failovers, latencies 50-3049 ms. */
async function generateDay(manager: EntityManager, tenantId: string, day: string, rows: number): Promise<void> {
  await manager.query('TRUNCATE provider_usage, provider_daily_summaries');
  await manager.query(
    `INSERT INTO provider_usage (tenant_id, provider, model, input_tokens, cached_input_tokens, output_tokens, total_tokens,
                                 cost_usd, latency_ms, success, was_failover, attempt_number, created_at)
     SELECT $1, (ARRAY['openai', 'gemini'])[1 + i % 2], (ARRAY['small', 'medium', 'large'])[1 + i % 3],
            200 + i % 800, i % 100, 50 + i % 300, 250 + i % 800 + 50 + i % 300,
            ((200 + i % 800) * 0.000000150 + (50 + i % 300) * 0.000000600)::numeric(20,12),
            50 + (hashint4(i) & 2147483647) % 3000, i % 20 <> 0, i % 50 = 0, 1,
            $2::timestamptz + (i::float8 / $3) * interval '86399 seconds'
     FROM generate_series(0, $3 - 1) AS i`,
    [tenantId, `${day}T00:00:00Z`, rows],
  );
  await manager.query('ANALYZE provider_usage');
}

/** percentile_cont's definition: linear interpolation between the two nearest ranks. */
function percentile(sorted: number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** The naive way: every row of the day into memory, grouped and sorted in JavaScript. Returns p95 per group. */
async function naiveAggregate(manager: EntityManager, day: string): Promise<Map<string, { calls: number; p95: number }>> {
  const rows: Array<{
    tenant_id: string;
    provider: string;
    model: string;
    latency_ms: number;
    success: boolean;
    cost_usd: string;
    total_tokens: number;
  }> = await manager.query(
    `SELECT tenant_id, provider, model, latency_ms, success, cost_usd, total_tokens FROM provider_usage
       WHERE created_at >= $1::timestamptz AND created_at < $1::timestamptz + interval '1 day'`,
    [`${day}T00:00:00Z`],
  );
  const groups = new Map<string, { latencies: number[]; successes: number; tokens: number; costPico: bigint }>();
  for (const row of rows) {
    const key = `${row.tenant_id}|${row.provider}|${row.model}`;
    let group = groups.get(key);
    if (!group) {
      group = { latencies: [], successes: 0, tokens: 0, costPico: 0n };
      groups.set(key, group);
    }
    group.latencies.push(row.latency_ms);
    if (row.success) group.successes += 1;
    group.tokens += row.total_tokens;
    group.costPico += BigInt(row.cost_usd.replace('.', ''));
  }
  const result = new Map<string, { calls: number; p95: number }>();
  for (const [key, group] of groups) {
    const sorted = group.latencies.sort((left, right) => left - right);
    percentile(sorted, 0.5);
    percentile(sorted, 0.99);
    result.set(key, { calls: sorted.length, p95: percentile(sorted, 0.95) });
  }
  return result;
}

/** Runs the benchmark on a scratch database of the given server. */
export async function runAggregateBenchmark(options: AggregateBenchOptions): Promise<BenchRow[]> {
  const admin = new Client({ connectionString: options.serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const database = await openDatabase({ url: databaseUrl(options.serverUrl, DATABASE), migrate: true, poolSize: 2 });
  const manager = database.dataSource.manager;
  const rows: BenchRow[] = [];
  const medians: number[] = [];
  try {
    const [tenant] = await manager.query(
      `INSERT INTO tenants (name, whatsapp_number, encrypted_credentials) VALUES ('Bench', '+15005550009', 'unused') RETURNING id`,
    );
    const day = addDays(utcDay(), -1);
    for (const size of options.sizes ?? SIZES) {
      process.stderr.write(`  aggregate: generating ${size} rows...\n`);
      await generateDay(manager, tenant.id, day, size);
      const sqlRuns: number[] = [];
      const naiveRuns: number[] = [];
      for (let run = 0; run < options.runs; run += 1) {
        let started = performance.now();
        await aggregateDay(manager, day);
        sqlRuns.push(performance.now() - started);
        started = performance.now();
        const naive = await naiveAggregate(manager, day);
        naiveRuns.push(performance.now() - started);
        // Both ways must agree, or the comparison means nothing.
        const stored: Array<{ provider: string; model: string; total_calls: number; p95: string }> = await manager.query(
          `SELECT provider, model, total_calls, p95_latency_ms::text AS p95 FROM provider_daily_summaries`,
        );
        for (const summary of stored) {
          const expected = naive.get(`${tenant.id}|${summary.provider}|${summary.model}`);
          if (!expected || expected.calls !== summary.total_calls || Math.abs(expected.p95 - Number(summary.p95)) > 0.001) {
            throw new Error(`SQL and naive aggregation disagree for ${summary.provider}/${summary.model}`);
          }
        }
      }
      const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
      rows.push(
        summarize('daily aggregation', `${label} rows, one day (SQL upsert)`, 'ms', sqlRuns, {
          baselineSamples: naiveRuns,
          baselineLabel: 'load + sort in JS',
          ...(size === 1_000_000 ? { target: '< 5000 ms', meets: (value: number) => value < 5000 } : {}),
        }),
      );
      medians.push(rows.at(-1)!.median / size);
    }
    if (medians.length > 1) {
      // Time per row at the largest size over time per row at the size ten times smaller: 1.0 is perfectly linear;
      // the percentile sorts are O(n log n), about 1.2 from 100k to 1M. The smallest size is dominated by fixed costs.
      rows.push(
        summarize('daily aggregation', 'time per row, largest / next size', 'x', [medians.at(-1)! / medians.at(-2)!], {
          target: '<= 1.5 (linear)',
          meets: (value: number) => value <= 1.5,
        }),
      );
    }
  } finally {
    await database.close();
    const cleanup = new Client({ connectionString: options.serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await cleanup.end();
  }
  return rows;
}
