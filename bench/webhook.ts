/**
 * Webhook ingest: signed inbound webhooks against a started Parley on local PostgreSQL, beside a bare express
 * route doing one INSERT, in the same run. Two measurements:
 * - closed loop (autocannon) at 50 and 200 connections: the most requests/s each sustains, with their latency
 *   (which at saturation is connections / throughput, for Parley and the baseline alike);
 * - open loop at a steady 1,500 requests/s, paced evenly from a worker thread with latency counted from each
 *   request's due time: the ack latency target is about this load.
 * Every request that got a 2xx is then looked up: each must be stored.
 *   npm run bench -- webhook [--duration 10] [--runs 3] [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import crypto from 'node:crypto';
import autocannon from 'autocannon';
import twilio from 'twilio';
import { openDatabase } from '../src/db/data-source';
import { TenantService } from '../src/tenants/tenant-service';
import type { PreparedRequest } from './lib/open-loop';
import { runOpenLoopInWorker } from './lib/open-loop-worker';
import { databaseUrl, recreateDatabase, spawnAndWait } from './lib/processes';
import { summarize, type BenchRow } from './lib/report';

const TENANT_NUMBER = '+15005550006';
const STEADY_RATE = 1500;

export interface WebhookBenchOptions {
  durationSeconds: number;
  runs: number;
  serverUrl: string;
  connections: number[];
}

interface LoadResult {
  /** MessageSids that got a 2xx: each must be stored. */
  acceptedSids: string[];
  p50: number;
  p99: number;
  requestsPerSecond: number;
  ok: number;
  failures: number;
}

/** The parameters Twilio would post for the n-th benchmark message: spread over 500 customers. */
function inboundParams(prefix: string, counter: number): Record<string, string> {
  const sid = `SM${prefix}${counter.toString(16).padStart(16, '0')}`;
  // Spread over 500 customers: realistic fan-in, and per-conversation rows stay small.
  const customer = `whatsapp:+1555${String(1_000_000 + (counter % 500)).padStart(7, '0')}`;
  return {
    MessageSid: sid,
    AccountSid: `AC${'0'.repeat(32)}`,
    From: customer,
    To: `whatsapp:${TENANT_NUMBER}`,
    Body: `benchmark message ${counter}`,
    NumMedia: '0',
    ProfileName: 'Bench',
    WaId: customer.slice(10),
  };
}

/** `count` ready-to-send webhook requests (signed when `sign` is given), for the open-loop generator. */
function prepareRequests(
  url: string,
  count: number,
  sign: ((url: string, params: Record<string, string>) => string) | null,
): PreparedRequest[] {
  const prefix = crypto.randomBytes(8).toString('hex');
  const path = new URL(url).pathname;
  return Array.from({ length: count }, (_, index) => {
    const params = inboundParams(prefix, index + 1);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (sign) headers['x-twilio-signature'] = sign(url, params);
    return { path, headers, body: new URLSearchParams(params).toString(), key: params.MessageSid };
  });
}

/** Closed-loop load: `connections` clients each send their next request as soon as the last is answered. */
async function load(
  url: string,
  connections: number,
  durationSeconds: number,
  sign: ((url: string, params: Record<string, string>) => string) | null,
): Promise<LoadResult> {
  const prefix = crypto.randomBytes(8).toString('hex');
  let counter = 0;
  const acceptedSids: string[] = [];
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [
      {
        setupRequest: (request, context) => {
          counter += 1;
          const params = inboundParams(prefix, counter);
          const sid = params.MessageSid;
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (sign) headers['x-twilio-signature'] = sign(url, params);
          (context as { sid?: string }).sid = sid;
          return { ...request, headers, body: new URLSearchParams(params).toString() };
        },
        onResponse: (status, _body, context) => {
          const sid = (context as { sid?: string }).sid;
          if (status >= 200 && status < 300 && sid) acceptedSids.push(sid);
        },
      },
    ],
  });
  return {
    acceptedSids,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requestsPerSecond: result.requests.average,
    ok: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Runs the benchmark and returns its rows. */
export async function runWebhookBenchmark(options: WebhookBenchOptions): Promise<BenchRow[]> {
  const encryptionKey = crypto.randomBytes(32);
  const authToken = crypto.randomBytes(16).toString('hex');
  const parleyUrl = databaseUrl(options.serverUrl, 'parley_bench');
  await recreateDatabase(options.serverUrl, 'parley_bench');
  const setup = await openDatabase({ url: parleyUrl, migrate: true, poolSize: 2 });
  await new TenantService(setup.dataSource.manager, encryptionKey).create({
    name: 'Bench',
    whatsappNumber: TENANT_NUMBER,
    credentials: { twilioAuthToken: authToken },
  });
  await setup.dataSource.query(
    'CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, sid varchar(64) UNIQUE NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );

  const parleyPort = 39000 + Math.floor(Math.random() * 1000);
  const baselinePort = parleyPort + 1000;
  const publicBaseUrl = `http://127.0.0.1:${parleyPort}`;
  // `node --import tsx` keeps the server in one process (the tsx CLI would fork a child).
  const parley = await spawnAndWait(
    process.execPath,
    ['--import', 'tsx', 'src/server.ts'],
    {
      DATABASE_URL: parleyUrl,
      APP_ENCRYPTION_KEY: encryptionKey.toString('hex'),
      PORT: String(parleyPort),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: publicBaseUrl,
      LOG_LEVEL: 'info',
      INBOX_IN_WEB: 'false',
      NODE_ENV: 'production',
      DATABASE_POOL_SIZE: '10',
    },
    `${publicBaseUrl}/readyz`,
  );
  const baseline = await spawnAndWait(
    process.execPath,
    ['--import', 'tsx', 'bench/baseline-server.ts', parleyUrl, String(baselinePort), '10'],
    {},
    null,
    'ready',
  );
  const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(authToken, url, params);
  const rows: BenchRow[] = [];
  const parleyAccepted: string[] = [];
  try {
    // Warm both up (JIT, pools, caches) before measuring.
    await load(`${publicBaseUrl}/v1/webhooks/twilio/whatsapp`, 10, 2, sign).then((result) => parleyAccepted.push(...result.acceptedSids));
    await load(`http://127.0.0.1:${baselinePort}/ingest`, 10, 2, null);
    for (const connections of options.connections) {
      const parleyRuns: LoadResult[] = [];
      const baselineRuns: LoadResult[] = [];
      for (let run = 0; run < options.runs; run += 1) {
        const parleyResult = await load(`${publicBaseUrl}/v1/webhooks/twilio/whatsapp`, connections, options.durationSeconds, sign);
        parleyAccepted.push(...parleyResult.acceptedSids);
        parleyRuns.push(parleyResult);
        baselineRuns.push(await load(`http://127.0.0.1:${baselinePort}/ingest`, connections, options.durationSeconds, null));
      }
      const name = `webhook ingest, ${connections} connections`;
      rows.push(
        summarize(
          name,
          'ack latency p50',
          'ms',
          parleyRuns.map((run) => run.p50),
          { baselineSamples: baselineRuns.map((run) => run.p50), baselineLabel: 'bare express + 1 INSERT' },
        ),
        summarize(
          name,
          'ack latency p99',
          'ms',
          parleyRuns.map((run) => run.p99),
          { baselineSamples: baselineRuns.map((run) => run.p99), baselineLabel: 'bare express + 1 INSERT' },
        ),
        summarize(
          name,
          'throughput',
          'req/s',
          parleyRuns.map((run) => run.requestsPerSecond),
          {
            baselineSamples: baselineRuns.map((run) => run.requestsPerSecond),
            baselineLabel: 'bare express + 1 INSERT',
            target: '>= 1500 req/s',
            meets: (value) => value >= 1500,
          },
        ),
        summarize(
          name,
          'failed requests',
          'count',
          parleyRuns.map((run) => run.failures),
        ),
      );
    }
    // Closed-loop load at saturation makes latency = connections / throughput (Little's law), so the latency
    // target is measured where it means something: 1,500 requests/s offered at an even pace (open loop).
    const steadyRuns: LoadResult[] = [];
    const steadyBaseline: LoadResult[] = [];
    const steadyCount = STEADY_RATE * options.durationSeconds;
    const parleyUrl = `${publicBaseUrl}/v1/webhooks/twilio/whatsapp`;
    const baselineUrl = `http://127.0.0.1:${baselinePort}/ingest`;
    for (let run = 0; run < options.runs; run += 1) {
      const result = await runOpenLoopInWorker({
        origin: publicBaseUrl,
        requests: prepareRequests(parleyUrl, steadyCount, sign),
        rate: STEADY_RATE,
        connections: 50,
      });
      if (result.failures > 0) process.stderr.write(`  webhook steady run ${run + 1}: failures ${JSON.stringify(result.failureReasons)}\n`);
      parleyAccepted.push(...result.acceptedKeys);
      steadyRuns.push({ ...result, acceptedSids: result.acceptedKeys });
      const baselineResult = await runOpenLoopInWorker({
        origin: `http://127.0.0.1:${baselinePort}`,
        requests: prepareRequests(baselineUrl, steadyCount, null),
        rate: STEADY_RATE,
        connections: 50,
      });
      steadyBaseline.push({ ...baselineResult, acceptedSids: baselineResult.acceptedKeys });
    }
    const steady = 'webhook ingest, steady 1,500 req/s offered evenly (open loop, up to 50 connections)';
    rows.push(
      summarize(
        steady,
        'ack latency p50',
        'ms',
        steadyRuns.map((run) => run.p50),
        { baselineSamples: steadyBaseline.map((run) => run.p50), baselineLabel: 'bare express + 1 INSERT' },
      ),
      summarize(
        steady,
        'ack latency p99',
        'ms',
        steadyRuns.map((run) => run.p99),
        {
          baselineSamples: steadyBaseline.map((run) => run.p99),
          baselineLabel: 'bare express + 1 INSERT',
          target: '< 25 ms',
          meets: (value) => value < 25,
        },
      ),
      summarize(
        steady,
        'throughput achieved',
        'req/s',
        steadyRuns.map((run) => run.requestsPerSecond),
        { target: '>= 1500 req/s (within 3%)', meets: (value) => value >= 1455 },
      ),
      summarize(
        steady,
        'failed requests',
        'count',
        steadyRuns.map((run) => run.failures),
        { target: '0', meets: (value) => value === 0 },
      ),
    );
    let stored = 0;
    for (let start = 0; start < parleyAccepted.length; start += 10_000) {
      const [{ count }] = await setup.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE message_sid = ANY($1)`, [
        parleyAccepted.slice(start, start + 10_000),
      ]);
      stored += Number(count);
    }
    rows.push(
      summarize(
        'webhook ingest',
        `accepted (2xx) but not stored, of ${parleyAccepted.length}`,
        'messages',
        [parleyAccepted.length - stored],
        { target: '0', meets: (value) => value === 0 },
      ),
    );
  } finally {
    parley.kill('SIGTERM');
    baseline.kill('SIGTERM');
    await setup.close();
  }
  return rows;
}
