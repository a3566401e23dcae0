/**
 * Reply capacity at real model latency (`npm run bench -- capacity [--model-latency MS] [--customers N]`): one
 * server process with default settings on local PostgreSQL, a model that answers every request after 1.5 s, the
 * fake Twilio REST API receiving the replies, and N customers (1,000) writing at once. Reports replies per second
 * from the first webhook to the last reply delivered, time to reply (p50/p95/p99), database statements and machine
 * CPU per reply, peak RSS, duplicates, lost replies; the same run with INBOX_CONCURRENCY=8 (the old default) as the
 * in-run baseline; and two tenants, one with a 5,000-message burst and one with 50 messages spread over it: the
 * quiet tenant's p95 time to reply.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import twilio from 'twilio';
import { DEFAULT_BURST_QUIET_MS } from '../src/config';
import { openDatabase } from '../src/db/data-source';
import { TenantService } from '../src/tenants/tenant-service';
import { databaseUrl, machineBusyMilliseconds, processCpuMilliseconds, recreateDatabase, startServerProcess } from './lib/processes';
import { quantile, type BenchRow, summarize } from './lib/report';
import { startFakeServices } from './lib/fake-services';

const DATABASE = 'parley_capacity';
/** Webhooks in flight from the load generator at once (Twilio itself spreads a campaign's answers over connections). */
const CLIENT_CONCURRENCY = 200;
const DRAIN_TIMEOUT_MS = 15 * 60_000;

interface TenantSetup {
  number: string;
  accountSid: string;
  authToken: string;
}

interface RunResult {
  replies: number;
  seconds: number;
  timesToReply: number[];
  duplicates: number;
  lost: number;
  statements: number | null;
  cpuMilliseconds: number;
  /** CPU of the server process alone: unlike the machine's, other work on a shared machine does not inflate it. */
  serverCpuMilliseconds: number;
  /** The machine's 1-minute load average at the end (2 cores: above 2, something else competed). */
  loadAverage: number;
  peakRssMiB: number;
  modelPeakConcurrent: number;
  quietTimesToReply?: number[];
  /** Per second since the first webhook: webhooks acknowledged, model requests started, replies delivered. */
  timeline: Array<{ acks: number; modelRequests: number; replies: number }>;
}

/** Peak resident set size of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The server's count of database statements, from /metrics (parley_db_statements_total), or null without it. */
async function statementsOf(base: string): Promise<number | null> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^parley_db_statements_total\s+(\d+(?:\.\d+)?)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** Posts one signed inbound webhook; resolves with when it was acknowledged. */
async function postWebhook(base: string, tenant: TenantSetup, customer: string, body: string): Promise<number> {
  const params = {
    MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
    AccountSid: tenant.accountSid,
    From: customer,
    To: `whatsapp:${tenant.number}`,
    Body: body,
    NumMedia: '0',
    ProfileName: 'Customer',
  };
  const target = `${base}/v1/webhooks/twilio/whatsapp`;
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(tenant.authToken, target, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    await response.arrayBuffer();
    if (response.ok) return Date.now();
    // Twilio retries a failed webhook; so does the load generator, a few times.
    if (attempt >= 3) throw new Error(`webhook answered ${response.status}`);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function withConcurrency<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const customerOf = (tenantIndex: number, index: number) => `whatsapp:+1555${tenantIndex}${String(index).padStart(6, '0')}`;

/**
 * One run: a fresh database and server (with `environment` added), `burst` customers of tenant 0 writing at once,
 * and optionally `quiet` messages of tenant 1 spread over `quietSpreadMs` from the burst's start.
 */
async function runOnce(options: {
  serverUrl: string;
  modelLatencyMs: number;
  burst: number;
  quiet?: { messages: number; spreadMs: number };
  environment?: Record<string, string>;
}): Promise<RunResult> {
  const url = databaseUrl(options.serverUrl, DATABASE);
  await recreateDatabase(options.serverUrl, DATABASE);
  const encryptionKey = crypto.randomBytes(32);
  const setup = await openDatabase({ url, migrate: true, poolSize: 2 });
  // The model and Twilio answer from a process of their own, not from the loop that generates the load.
  const fakes = await startFakeServices(options.modelLatencyMs);
  const tenantService = new TenantService(setup.dataSource.manager, encryptionKey);
  const tenants: TenantSetup[] = [];
  for (const index of [0, 1]) {
    const tenant: TenantSetup = {
      number: `+1500555000${index}`,
      accountSid: `AC${crypto.randomBytes(16).toString('hex')}`,
      authToken: crypto.randomBytes(16).toString('hex'),
    };
    await fakes.addAccount(tenant.accountSid, tenant.authToken);
    await tenantService.create({
      name: `Capacity ${index}`,
      whatsappNumber: tenant.number,
      credentials: { twilioAccountSid: tenant.accountSid, twilioAuthToken: tenant.authToken },
      settings: { feedbackButtons: 'never' },
    });
    tenants.push(tenant);
  }
  let server: ChildProcess | undefined;
  try {
    let base: string;
    ({ server, base } = await startServerProcess({
      databaseUrl: url,
      encryptionKey,
      portBase: 42000,
      environment: {
        OPENAI_API_KEY: 'sk-capacity-bench',
        OPENAI_BASE_URL: fakes.modelBaseUrl,
        TWILIO_API_BASE_URL: fakes.twilioUrl,
        ...options.environment,
      },
    }));
    const sentAt = new Map<string, number>();
    const ackTimes: number[] = [];
    const statementsBefore = await statementsOf(base);
    const cpuBefore = machineBusyMilliseconds();
    const serverCpuBefore = processCpuMilliseconds(server.pid!);
    const started = Date.now();
    const burstCustomers = Array.from({ length: options.burst }, (_, index) => customerOf(0, index));
    const quietCustomers = Array.from({ length: options.quiet?.messages ?? 0 }, (_, index) => customerOf(1, index));
    const burst = withConcurrency(burstCustomers, CLIENT_CONCURRENCY, async (customer) => {
      sentAt.set(customer, Date.now());
      ackTimes.push(
        await postWebhook(
          base,
          tenants[0],
          customer,
          'Hi! I got your campaign message: is the offer still on, and does it ship to Lisbon?',
        ),
      );
    });
    const quiet = (async () => {
      if (!options.quiet) return;
      const interval = options.quiet.spreadMs / options.quiet.messages;
      for (const [index, customer] of quietCustomers.entries()) {
        const due = started + 500 + index * interval;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        sentAt.set(customer, Date.now());
        ackTimes.push(await postWebhook(base, tenants[1], customer, 'Hello, what are your opening hours today?'));
      }
    })();
    await Promise.all([burst, quiet]);
    const expected = options.burst + (options.quiet?.messages ?? 0);
    while (new Set(fakes.replies.map((reply) => reply.to)).size < expected && Date.now() - started < DRAIN_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const cpuAfter = machineBusyMilliseconds();
    const serverCpuAfter = processCpuMilliseconds(server.pid!);
    const loadAverage = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    const statementsAfter = await statementsOf(base);
    const firstReplyTo = new Map<string, number>();
    const repliesPerCustomer = new Map<string, number>();
    for (const reply of fakes.replies) {
      repliesPerCustomer.set(reply.to, (repliesPerCustomer.get(reply.to) ?? 0) + 1);
      if (!firstReplyTo.has(reply.to)) firstReplyTo.set(reply.to, reply.receivedAt);
    }
    const lastReply = Math.max(...fakes.replies.map((reply) => reply.receivedAt));
    const model = await fakes.report();
    const timeToReply = (customers: string[]) =>
      customers.filter((customer) => firstReplyTo.has(customer)).map((customer) => firstReplyTo.get(customer)! - sentAt.get(customer)!);
    const replies = fakes.replies.length;
    const timeline = Array.from({ length: Math.ceil((lastReply - started) / 1000) + 1 }, () => ({ acks: 0, modelRequests: 0, replies: 0 }));
    const second = (at: number) => timeline[Math.min(timeline.length - 1, Math.max(0, Math.floor((at - started) / 1000)))];
    for (const at of ackTimes) second(at).acks += 1;
    for (const at of model.modelRequestTimes) second(at).modelRequests += 1;
    for (const reply of fakes.replies) second(reply.receivedAt).replies += 1;
    return {
      timeline,
      replies,
      seconds: (lastReply - started) / 1000,
      timesToReply: timeToReply(burstCustomers),
      quietTimesToReply: options.quiet ? timeToReply(quietCustomers) : undefined,
      duplicates: [...repliesPerCustomer.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0),
      lost: expected - firstReplyTo.size,
      statements: statementsBefore === null || statementsAfter === null ? null : statementsAfter - statementsBefore,
      cpuMilliseconds: cpuAfter - cpuBefore,
      serverCpuMilliseconds: serverCpuAfter - serverCpuBefore,
      loadAverage,
      peakRssMiB: peakRssMiB(server.pid!),
      modelPeakConcurrent: model.modelPeakConcurrent,
    };
  } finally {
    server?.kill('SIGTERM');
    await Promise.all([fakes.close(), setup.close()]);
  }
}

/** "second: acks/model requests/replies" for every second where something happened, the rest elided. */
function formatTimeline(timeline: RunResult['timeline']): string {
  return timeline
    .map(({ acks, modelRequests, replies }, second) =>
      acks + modelRequests + replies > 0 ? `${second}s ${acks}/${modelRequests}/${replies}` : '',
    )
    .filter(Boolean)
    .join(', ');
}

/** Runs the capacity benchmark and returns its rows. */
export async function runCapacityBenchmark(options: {
  serverUrl: string;
  modelLatencyMs?: number;
  customers?: number;
}): Promise<BenchRow[]> {
  const latency = options.modelLatencyMs ?? 1_500;
  const customers = options.customers ?? 1_000;
  const name = `capacity, ${customers} customers at once, model ${latency} ms`;
  const defaults = await runOnce({ serverUrl: options.serverUrl, modelLatencyMs: latency, burst: customers });
  const old = await runOnce({
    serverUrl: options.serverUrl,
    modelLatencyMs: latency,
    burst: customers,
    environment: { INBOX_CONCURRENCY: '8' },
  });
  const fairness = await runOnce({
    serverUrl: options.serverUrl,
    modelLatencyMs: latency,
    burst: 5_000,
    quiet: { messages: 50, spreadMs: 20_000 },
  });
  // Where the time went, per second since the first webhook (acknowledged / model requests started / replies).
  for (const [label, run] of [
    ['default', defaults],
    ['INBOX_CONCURRENCY=8', old],
    ['fairness', fairness],
  ] as const)
    process.stderr.write(`capacity timeline, ${label}: ${formatTimeline(run.timeline)}\n`);
  const rate = (run: RunResult) => run.replies / run.seconds;
  const perReply = (run: RunResult, value: number | null) => (value === null || run.replies === 0 ? Number.NaN : value / run.replies);
  const rows: BenchRow[] = [
    summarize(name, 'replies per second (first webhook to last reply delivered)', 'replies/s', [rate(defaults)], {
      baselineSamples: [rate(old)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
      target: '>= 100',
      meets: (value) => value >= 100,
    }),
    summarize(name, 'time to reply p50', 'ms', [quantile(defaults.timesToReply, 0.5)], {
      baselineSamples: [quantile(old.timesToReply, 0.5)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'time to reply p95', 'ms', [quantile(defaults.timesToReply, 0.95)], {
      baselineSamples: [quantile(old.timesToReply, 0.95)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'time to reply p99', 'ms', [quantile(defaults.timesToReply, 0.99)], {
      baselineSamples: [quantile(old.timesToReply, 0.99)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'database statements per reply', 'statements', [perReply(defaults, defaults.statements)], {
      baselineSamples: [perReply(old, old.statements)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'machine CPU per reply (all processes, 2 cores)', 'ms', [perReply(defaults, defaults.cpuMilliseconds)], {
      baselineSamples: [perReply(old, old.cpuMilliseconds)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'server process CPU per reply', 'ms', [perReply(defaults, defaults.serverCpuMilliseconds)], {
      baselineSamples: [perReply(old, old.serverCpuMilliseconds)],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'machine load average (1 min) at the end of the run', 'load', [defaults.loadAverage], {
      baselineSamples: [old.loadAverage],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'server peak RSS', 'MiB', [defaults.peakRssMiB], {
      baselineSamples: [old.peakRssMiB],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'model requests in flight at most', 'requests', [defaults.modelPeakConcurrent], {
      baselineSamples: [old.modelPeakConcurrent],
      baselineLabel: 'INBOX_CONCURRENCY=8',
    }),
    summarize(name, 'duplicate replies', 'replies', [defaults.duplicates + old.duplicates + fairness.duplicates], {
      target: '0',
      meets: (value) => value === 0,
    }),
    summarize(name, 'lost replies', 'messages', [defaults.lost + old.lost + fairness.lost], { target: '0', meets: (value) => value === 0 }),
  ];
  const fairName = `fairness, 5,000-message burst of one tenant + 50 messages of another over 20 s, model ${latency} ms`;
  rows.push(
    summarize(fairName, 'quiet tenant time to reply p50', 'ms', [quantile(fairness.quietTimesToReply ?? [], 0.5)]),
    // Issue 18 asked for < 2× the model latency (3 s), written before issue 20's burst window: every reply now waits
    // for the customer to be quiet for 2 s first, so the least possible time to reply is 2 s + 1.5 s = 3.5 s. The
    // target is therefore 2× the model latency plus the window: a quiet tenant waits no more than one extra model
    // latency for the other tenant's burst.
    summarize(fairName, 'quiet tenant time to reply p95', 'ms', [quantile(fairness.quietTimesToReply ?? [], 0.95)], {
      target: `< ${2 * latency + DEFAULT_BURST_QUIET_MS} ms (2× model latency + the ${DEFAULT_BURST_QUIET_MS} ms burst window)`,
      meets: (value) => value < 2 * latency + DEFAULT_BURST_QUIET_MS,
    }),
    summarize(fairName, 'bursty tenant replies per second', 'replies/s', [rate(fairness)]),
  );
  return rows;
}

if (require.main === module) {
  runCapacityBenchmark({ serverUrl: process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres' })
    .then((rows) => {
      for (const row of rows)
        process.stdout.write(
          `${row.benchmark} | ${row.figure}: ${row.median.toFixed(2)} ${row.unit}${row.baseline === undefined ? '' : ` (baseline ${row.baseline.toFixed(2)})`}\n`,
        );
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
