/**
 * Bounded memory under hostile traffic: unsigned inbound webhooks to random WhatsApp numbers no tenant owns, which
 * anyone on the internet can send. Each is looked up (before any signature can be checked, since the number picks
 * the tenant whose token signs) and answered 404; nothing kept for them may grow the process. A started Parley on
 * the local PostgreSQL, in a child process like the webhook benchmark; its RSS is read from /proc after a warm-up
 * (start), every second under load (peak) and after the load (end).
 *   npm run bench -- memory [--memory-webhooks 1000000] [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import autocannon from 'autocannon';
import { openDatabase } from '../src/db/data-source';
import { TenantService } from '../src/tenants/tenant-service';
import { databaseUrl, recreateDatabase, startServerProcess } from './lib/processes';
import { summarize, type BenchRow } from './lib/report';

const TENANT_NUMBER = '+15005550007';
/**
 * Enough for the server's heap to have been through its first major collections: before them RSS climbs with
 * garbage nobody holds (a 50,000 warm-up left it 15% above where it settled), which would flatter the ratio.
 */
const WARM_UP_WEBHOOKS = 200_000;
const CONNECTIONS = 20;
/** The load is sent in chunks, with an RSS reading after each: a steady climb shows between them. */
const CHUNKS = 10;

export interface MemoryBenchOptions {
  serverUrl: string;
  /** Webhooks measured after the warm-up. */
  webhooks: number;
}

/** Resident set size of a process, in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A WhatsApp address no tenant owns: +1 999 and nine random digits. */
function unknownNumber(): string {
  return `whatsapp:+1999${String(crypto.randomInt(1_000_000_000)).padStart(9, '0')}`;
}

interface LoadResult {
  notFound: number;
  other: number;
  requestsPerSecond: number;
}

/** `amount` unsigned inbound webhooks, each to a fresh random number, over CONNECTIONS keep-alive connections. */
async function sendUnknown(url: string, amount: number): Promise<LoadResult> {
  let notFound = 0;
  let other = 0;
  let counter = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [
      {
        setupRequest: (request) => {
          counter += 1;
          const params = {
            MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
            AccountSid: `AC${'0'.repeat(32)}`,
            From: `whatsapp:+1555${String(counter % 10_000_000).padStart(7, '0')}`,
            To: unknownNumber(),
            Body: `message ${counter}`,
            NumMedia: '0',
          };
          return { ...request, body: new URLSearchParams(params).toString() };
        },
        onResponse: (status) => {
          if (status === 404) notFound += 1;
          else other += 1;
        },
      },
    ],
  });
  return { notFound, other: other + result.errors + result.timeouts, requestsPerSecond: result.requests.average };
}

/** Runs the benchmark and returns its rows. */
export async function runMemoryBenchmark(options: MemoryBenchOptions): Promise<BenchRow[]> {
  const encryptionKey = crypto.randomBytes(32);
  const url = databaseUrl(options.serverUrl, 'parley_bench_memory');
  await recreateDatabase(options.serverUrl, 'parley_bench_memory');
  const setup = await openDatabase({ url, migrate: true, poolSize: 2 });
  await new TenantService(setup.dataSource.manager, encryptionKey).create({
    name: 'Memory',
    whatsappNumber: TENANT_NUMBER,
    credentials: { twilioAuthToken: crypto.randomBytes(16).toString('hex') },
  });
  await setup.close();

  const { server, base } = await startServerProcess({
    databaseUrl: url,
    encryptionKey,
    portBase: 43000,
    environment: { LOG_LEVEL: 'info', INBOX_IN_WEB: 'false', DATABASE_POOL_SIZE: '10' },
  });
  const target = `${base}/v1/webhooks/twilio/whatsapp`;
  const pid = server.pid!;
  try {
    const warmUp = await sendUnknown(target, WARM_UP_WEBHOOKS);
    if (warmUp.other > 0) throw new Error(`warm-up: ${warmUp.other} answers were not 404`);
    // Let the warm-up's garbage be collected before the first reading.
    await pause(3_000);
    const start = rssMiB(pid);
    let peak = start;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid));
    }, 1_000);
    const afterChunks: number[] = [];
    let notFound = 0;
    let other = 0;
    const rates: number[] = [];
    try {
      const chunk = Math.ceil(options.webhooks / CHUNKS);
      for (let sent = 0; sent < options.webhooks; sent += chunk) {
        const result = await sendUnknown(target, Math.min(chunk, options.webhooks - sent));
        notFound += result.notFound;
        other += result.other;
        rates.push(result.requestsPerSecond);
        afterChunks.push(rssMiB(pid));
        peak = Math.max(peak, afterChunks[afterChunks.length - 1]);
        process.stderr.write(
          `  memory: ${(sent + chunk).toLocaleString('en-US')} webhooks, RSS ${afterChunks[afterChunks.length - 1].toFixed(0)} MiB\n`,
        );
      }
    } finally {
      clearInterval(sampler);
    }
    await pause(3_000);
    const end = rssMiB(pid);
    const name = `memory, ${options.webhooks.toLocaleString('en-US')} unsigned webhooks to random unknown To numbers`;
    return [
      summarize(name, `server RSS at start (after ${WARM_UP_WEBHOOKS.toLocaleString('en-US')} warm-up webhooks)`, 'MiB', [start]),
      summarize(name, 'server RSS at end', 'MiB', [end], {
        baselineSamples: [start],
        baselineLabel: 'RSS at start',
        target: '<= 1.10× start',
        meets: (value) => value <= start * 1.1,
      }),
      summarize(name, 'server RSS, peak under load', 'MiB', [peak], { baselineSamples: [start], baselineLabel: 'RSS at start' }),
      summarize(name, `server RSS after each tenth of the load`, 'MiB', afterChunks),
      summarize(name, 'answered 404', 'requests', [notFound], {
        target: `${options.webhooks}`,
        meets: (value) => value === options.webhooks && other === 0,
      }),
      summarize(name, 'throughput per tenth of the load', 'req/s', rates),
    ];
  } finally {
    server.kill('SIGTERM');
  }
}
