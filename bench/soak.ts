/**
 * Load soak: mixed traffic at a steady rate against a started Parley on local PostgreSQL, answering as it goes
 * (inbound webhooks 80%, status callbacks 10%, API reads 10%). Reports errors, server RSS at start and end, and
 * the ack p99 per minute (first vs last minute, to show it is stable), and whether the replies keep up: the inbound
 * messages answered while the load ran against the inbound rate (160/s), and how long the rest took after it.
 *   npm run bench -- soak [--soak-duration 600]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import twilio from 'twilio';
import { ApiKeyService } from '../src/access/api-key-service';
import { openDatabase } from '../src/db/data-source';
import { KnowledgeChunkRepository } from '../src/db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from '../src/db/repositories/knowledge-document-repository';
import { importKnowledge } from '../src/knowledge/knowledge-import';
import { QuestionAnswerPassages } from '../src/knowledge/question-answer-passages';
import { TenantService } from '../src/tenants/tenant-service';
import {
  databaseUrl,
  machineBusyMilliseconds,
  processCpuMilliseconds,
  recreateDatabase,
  standInForAutovacuum,
  startServerProcess,
} from './lib/processes';
import { quantile, summarize, type BenchRow } from './lib/report';

const TENANT_NUMBER = '+15005550009';
const RATE_PER_SECOND = 200;
/**
 * Customers writing: at 160 inbound messages/s each writes about every 19 s, as real customers do. (With 300, each
 * wrote every 1.9 s, inside the 2 s burst window: 83% of the messages were answered together in bursts, so the
 * soak measured 27 turns/s, not the reply path at 160/s.)
 */
const CUSTOMERS = 3_000;
/** A backlog that kept up is answered within one burst window (at most 8 s, issue 20) and a turn after the load. */
const KEPT_UP_DRAIN_SECONDS = 10;

type RequestKind = 'inbound' | 'status' | 'api';
/** The mix, by the request's number: of every ten, eight inbound messages, one status callback, one API read. */
function requestKindOf(counter: number): RequestKind {
  const tenth = counter % 10;
  return tenth < 8 ? 'inbound' : tenth === 8 ? 'status' : 'api';
}

/** Resident set size of a process, in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/** Runs the soak and returns its rows. */
export async function runSoakBenchmark(options: { durationSeconds: number; serverUrl: string }): Promise<BenchRow[]> {
  const encryptionKey = crypto.randomBytes(32);
  const authToken = crypto.randomBytes(16).toString('hex');
  const url = databaseUrl(options.serverUrl, 'parley_soak');
  await recreateDatabase(options.serverUrl, 'parley_soak');
  const setup = await openDatabase({ url, migrate: true, poolSize: 2 });
  const tenants = new TenantService(setup.dataSource.manager, encryptionKey);
  const tenant = await tenants.create({
    name: 'Soak',
    whatsappNumber: TENANT_NUMBER,
    credentials: { twilioAuthToken: authToken },
  });
  const apiKeys = new ApiKeyService(setup.dataSource.manager);
  const user = await apiKeys.createUser(tenant.id, 'Soak', 'admin');
  const { secret } = await apiKeys.issueKey(user);
  // Through the import, as the API does: the entries are written with their passages of the hybrid search.
  const passages = new QuestionAnswerPassages({
    chunks: new KnowledgeChunkRepository(setup.dataSource.manager),
    documents: new KnowledgeDocumentRepository(setup.dataSource.manager),
    tenants,
  });
  await importKnowledge({ manager: setup.dataSource.manager, passages }, tenant.id, [
    { question: 'How long does shipping take?', answer: 'Three to five days.', tags: [] },
    { question: 'What is your refund policy?', answer: 'Thirty days, full refund.', tags: [] },
  ]);

  const { server, base } = await startServerProcess({ databaseUrl: url, encryptionKey, portBase: 41000 });
  // What a deployment's PostgreSQL does by default (this machine's CI configuration turns it off).
  const autovacuum = await standInForAutovacuum(url);
  /** Per minute, the latencies of each kind of request: which kind a slow minute's p99 comes from. */
  const minutes: Array<Record<RequestKind, number[]>> = [];
  let errors = 0;
  let sent = 0;
  let inboundSent = 0;
  let counter = 0;
  const startedAt = Date.now();
  // Let start-up allocations settle before the first reading.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const rssStart = rssMiB(server.pid!);
  // RSS once a minute while the load runs: a leak climbs minute after minute, a working set levels off.
  const rssPerMinute: number[] = [];
  const rssSampler = setInterval(() => rssPerMinute.push(rssMiB(server.pid!)), 60_000);
  // Where the machine's CPU goes while the load runs: the server, and everything (PostgreSQL, this load generator).
  const serverCpuStart = processCpuMilliseconds(server.pid!);
  const machineCpuStart = machineBusyMilliseconds();
  const loadGeneratorCpuStart = process.cpuUsage();
  const cpuStartedAt = Date.now();

  const fire = async () => {
    counter += 1;
    const kind = requestKindOf(counter);
    const started = performance.now();
    let response: Response;
    try {
      if (kind === 'inbound') {
        inboundSent += 1;
        const params = {
          MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
          AccountSid: `AC${'0'.repeat(32)}`,
          From: `whatsapp:+1555${String(3_000_000 + (counter % CUSTOMERS)).padStart(7, '0')}`,
          To: `whatsapp:${TENANT_NUMBER}`,
          Body: counter % 3 === 0 ? 'How long does shipping take?' : `question number ${counter}`,
          NumMedia: '0',
        };
        const target = `${base}/v1/webhooks/twilio/whatsapp`;
        response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, target, params),
          },
          body: new URLSearchParams(params).toString(),
        });
      } else if (kind === 'status') {
        const params = {
          MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
          From: `whatsapp:${TENANT_NUMBER}`,
          MessageStatus: 'delivered',
        };
        const target = `${base}/v1/webhooks/twilio/status`;
        response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, target, params),
          },
          body: new URLSearchParams(params).toString(),
        });
      } else {
        response = await fetch(`${base}/v1/bot/conversations?limit=20`, { headers: { authorization: `Bearer ${secret}` } });
      }
      await response.arrayBuffer();
      if (!response.ok) errors += 1;
    } catch {
      errors += 1;
    }
    const minute = Math.floor((Date.now() - startedAt) / 60_000);
    minutes[minute] ??= { inbound: [], status: [], api: [] };
    minutes[minute][kind].push(performance.now() - started);
  };

  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / RATE_PER_SECOND;
  const end = Date.now() + options.durationSeconds * 1000;
  let next = performance.now();
  while (Date.now() < end) {
    const work = fire().finally(() => inFlight.delete(work));
    inFlight.add(work);
    sent += 1;
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(inFlight);
  clearInterval(rssSampler);
  const rssEnd = rssMiB(server.pid!);
  const loadEndedAt = Date.now();
  const serverCpu = processCpuMilliseconds(server.pid!) - serverCpuStart;
  const machineCpu = machineBusyMilliseconds() - machineCpuStart;
  const loadGeneratorUsage = process.cpuUsage(loadGeneratorCpuStart);
  const loadGeneratorCpu = (loadGeneratorUsage.user + loadGeneratorUsage.system) / 1000;
  const cpuSeconds = (loadEndedAt - cpuStartedAt) / 1000;
  const countUnanswered = async () =>
    Number(
      (
        await setup.dataSource.query(
          `SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound' AND status NOT IN ('replied', 'skipped', 'failed')`,
        )
      )[0].n,
    );
  const unanswered = await countUnanswered();
  const loadSeconds = (loadEndedAt - startedAt) / 1000;
  // Turns (one reply each, for one message or a burst of them) finished while the load ran.
  const [{ turns }] = await setup.dataSource.query('SELECT count(*)::int AS turns FROM agent_interactions');
  // The replies are produced asynchronously: wait for the backlog to drain (bounded), and report how long it took.
  while ((await countUnanswered()) > 0 && Date.now() - loadEndedAt < 300_000) await new Promise((resolve) => setTimeout(resolve, 500));
  const drainSeconds = (Date.now() - loadEndedAt) / 1000;
  const [{ replied, failed }] = await setup.dataSource.query(
    `SELECT count(*) FILTER (WHERE status = 'replied')::int AS replied, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM messages WHERE direction = 'inbound'`,
  );
  // How long customers waited, minute by minute of the load: from the message stored to its reply stored (a burst's
  // messages wait for the customer to be quiet for the window first). Steady minutes mean the replies kept up; a
  // backlog that grows shows as waits that grow.
  const waits: Array<{ p50: number; p95: number }> = await setup.dataSource.query(
    `SELECT floor(extract(epoch FROM created_at - $1::timestamptz) / 60) AS minute,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at))::float8 AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at))::float8 AS p95
       FROM messages WHERE direction = 'inbound' AND created_at >= $1 AND created_at < $2
      GROUP BY minute ORDER BY minute`,
    [new Date(startedAt), new Date(loadEndedAt)],
  );
  server.kill('SIGTERM');
  await autovacuum.stop();
  await setup.close();

  // Per minute: p99 of each kind of request (ms), the RSS (MiB) and the wait for a reply (p50 s).
  process.stderr.write(
    `soak minutes: ${minutes
      .map((kinds, minute) => {
        const p99 = (samples: number[]) => (samples.length ? quantile(samples, 0.99).toFixed(0) : '-');
        return `${minute}: inbound ${p99(kinds.inbound)} status ${p99(kinds.status)} api ${p99(kinds.api)} rss ${rssPerMinute[minute]?.toFixed(0) ?? '-'} wait ${waits[minute]?.p50?.toFixed(1) ?? '-'}`;
      })
      .join('; ')}\n`,
  );
  const rssFirstHalf = rssPerMinute.slice(0, Math.floor(rssPerMinute.length / 2));
  const rssSecondHalf = rssPerMinute.slice(rssFirstHalf.length);
  const full = minutes.map((kinds) => [...kinds.inbound, ...kinds.status, ...kinds.api]).filter((samples) => samples.length > 0);
  const p99s = full.map((samples) => quantile(samples, 0.99));
  const name = `soak, ${RATE_PER_SECOND} req/s mixed for ${options.durationSeconds} s (${sent} requests, ${CUSTOMERS} customers)`;
  return [
    summarize(name, 'errors', 'requests', [errors], { target: '0', meets: (value) => value === 0 }),
    summarize(name, 'server RSS at start', 'MiB', [rssStart]),
    // The start is idle; at the end of the load the process holds up to INBOX_CONCURRENCY turns in flight and V8
    // has sized its heap for them: a working set, not a leak, and V8 gives memory back lazily, so an idle reading
    // after the load says little either. A leak grows with the work done: the leak check compares the load's later
    // minutes with its earlier ones, under the same load.
    summarize(name, 'server RSS at the end of the load', 'MiB', [rssEnd], { baselineSamples: [rssStart], baselineLabel: 'RSS at start' }),
    summarize(name, 'server RSS each minute of the load', 'MiB', rssPerMinute),
    summarize(name, "server RSS, median of the load's second half of minutes", 'MiB', rssSecondHalf, {
      baselineSamples: rssFirstHalf,
      baselineLabel: 'first half',
      target: '<= 1.2× first half (no growth)',
      meets: (value) => value <= 1.2 * quantile(rssFirstHalf, 0.5),
    }),
    summarize(name, 'p99 latency, first minute', 'ms', [p99s[0]]),
    summarize(name, 'p99 latency, last minute', 'ms', [p99s[p99s.length - 1]], {
      baselineSamples: [p99s[0]],
      baselineLabel: 'first minute',
      target: '<= 2× first minute',
      meets: (value) => value <= 2 * p99s[0],
    }),
    summarize(name, 'p99 latency per minute (median of minutes)', 'ms', p99s),
    summarize(name, 'inbound backlog when the load stopped', 'messages', [unanswered]),
    summarize(
      name,
      'wait for a reply p50, per minute of the load (message stored to reply stored)',
      's',
      waits.map((wait) => wait.p50),
    ),
    summarize(
      name,
      'wait for a reply p95, per minute of the load',
      's',
      waits.map((wait) => wait.p95),
    ),
    summarize(name, 'wait for a reply p95, last minute of the load', 's', [waits.at(-1)?.p95 ?? Number.NaN]),
    summarize(name, 'inbound messages answered per second while the load ran', 'messages/s', [(inboundSent - unanswered) / loadSeconds], {
      baselineSamples: [inboundSent / loadSeconds],
      baselineLabel: 'inbound rate',
    }),
    summarize(name, 'turns (one reply each) per second while the load ran', 'turns/s', [turns / loadSeconds]),
    // The machine's share in use, and who used it: what bounds the turns when the cores are full.
    summarize(name, 'machine CPU in use while the load ran (all cores)', '%', [
      (machineCpu / (cpuSeconds * 1000 * os.cpus().length)) * 100,
    ]),
    summarize(name, 'server process CPU per second of load', 'ms/s', [serverCpu / cpuSeconds]),
    summarize(name, 'load generator (this process) CPU per second of load', 'ms/s', [loadGeneratorCpu / cpuSeconds]),
    summarize(name, 'server process CPU per request (ack and turns included)', 'ms', [serverCpu / sent]),
    summarize(name, 'time to answer the backlog after the load', 's', [drainSeconds], {
      target: `<= ${KEPT_UP_DRAIN_SECONDS} s (kept up)`,
      meets: (value) => value <= KEPT_UP_DRAIN_SECONDS,
    }),
    summarize(name, 'reply throughput (replies / (load + drain time))', 'replies/s', [replied / ((Date.now() - startedAt) / 1000)]),
    summarize(name, 'inbound messages failed', 'messages', [failed], { target: '0', meets: (value) => value === 0 }),
    // 0 when the server runs its own autovacuum; else the stand-in's VACUUM (ANALYZE) passes, one a minute.
    summarize(name, 'autovacuum stand-in passes (server autovacuum off)', 'passes', [autovacuum.runs()]),
  ];
}
