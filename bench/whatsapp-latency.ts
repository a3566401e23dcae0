/**
 * What the WhatsApp turn features add to time to reply (`npm run bench -- whatsapp-latency [--runs N]`): one server
 * process on local PostgreSQL with the offline answerer (no model latency, so the differences show), the fake
 * Twilio REST API receiving replies and typing indicators, customers writing one message each, one after another.
 * Time to reply: from sending the webhook to the reply reaching (fake) Twilio. Four tenants:
 * - no burst window, typing indicator off: the baseline;
 * - no burst window, typing indicator on: its extra latency (the call runs in the background);
 * - no burst window, typing indicator on, Twilio's typing endpoint answering after 2 s: a slow indicator must not
 *   delay the reply;
 * - the default burst window (2 s quiet): the reply waits for the customer to be quiet, by design.
 */
import crypto from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import twilio from 'twilio';
import { openDatabase } from '../src/db/data-source';
import { TenantService } from '../src/tenants/tenant-service';
import { startFakeTwilio, type FakeTwilioServer } from '../test/fakes/twilio-server';
import { databaseUrl, recreateDatabase, spawnAndWait } from './lib/processes';
import { type BenchRow, median, summarize } from './lib/report';

const DATABASE = 'parley_whatsapp_latency';
const NAME = 'whatsapp-latency';

interface Tenant {
  number: string;
  accountSid: string;
  authToken: string;
}

export interface WhatsAppLatencyOptions {
  serverUrl: string;
  /** Messages per tenant without a burst window (each costs a turn). */
  samples?: number;
  /** Messages to the burst tenant (each costs the 2 s window). */
  burstSamples?: number;
}

async function postWebhook(base: string, tenant: Tenant, customer: string): Promise<void> {
  const params = {
    MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
    AccountSid: tenant.accountSid,
    From: customer,
    To: `whatsapp:${tenant.number}`,
    Body: 'Hello, what are your opening hours today?',
    NumMedia: '0',
  };
  const target = `${base}/v1/webhooks/twilio/whatsapp`;
  const response = await fetch(target, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(tenant.authToken, target, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
}

/** Milliseconds from the webhook to the first reply to `customer` at the fake. */
async function timeToReply(base: string, fake: FakeTwilioServer, tenant: Tenant, customer: string): Promise<number> {
  const sentAt = Date.now();
  await postWebhook(base, tenant, customer);
  const deadline = sentAt + 30_000;
  for (;;) {
    const reply = fake.messages.find((message) => message.params.To === customer);
    if (reply) return reply.receivedAt - sentAt;
    if (Date.now() > deadline) throw new Error(`no reply to ${customer} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function runWhatsAppLatencyBenchmark(options: WhatsAppLatencyOptions): Promise<BenchRow[]> {
  const samples = options.samples ?? 30;
  const burstSamples = options.burstSamples ?? 5;
  await recreateDatabase(options.serverUrl, DATABASE);
  const url = databaseUrl(options.serverUrl, DATABASE);
  const encryptionKey = crypto.randomBytes(32);
  const setup = await openDatabase({ url, migrate: true, poolSize: 2 });
  const fake = await startFakeTwilio();
  const tenantService = new TenantService(setup.dataSource.manager, encryptionKey);
  const noBurst = { quietMs: 0, maxMs: 0 };
  const configurations = [
    { key: 'baseline', whatsapp: { burst: noBurst, typingIndicator: false } },
    { key: 'typing', whatsapp: { burst: noBurst, typingIndicator: true } },
    { key: 'slowTyping', whatsapp: { burst: noBurst, typingIndicator: true } },
    { key: 'burst', whatsapp: { typingIndicator: true } },
  ] as const;
  const tenants = new Map<string, Tenant>();
  for (const [index, configuration] of configurations.entries()) {
    const tenant = {
      number: `+1500556000${index}`,
      accountSid: `AC${crypto.randomBytes(16).toString('hex')}`,
      authToken: crypto.randomBytes(16).toString('hex'),
    };
    fake.accounts.set(tenant.accountSid, tenant.authToken);
    await tenantService.create({
      name: `Latency ${configuration.key}`,
      whatsappNumber: tenant.number,
      credentials: { twilioAccountSid: tenant.accountSid, twilioAuthToken: tenant.authToken },
      settings: { feedbackButtons: 'never', whatsapp: configuration.whatsapp },
    });
    tenants.set(configuration.key, tenant);
  }
  const port = 43000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  try {
    server = await spawnAndWait(
      process.execPath,
      ['--import', 'tsx', 'src/server.ts'],
      {
        DATABASE_URL: url,
        APP_ENCRYPTION_KEY: encryptionKey.toString('hex'),
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: base,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        TWILIO_API_BASE_URL: fake.url,
        SEED_DEMO_TENANT: 'false',
      },
      `${base}/readyz`,
    );
    const results = new Map<string, number[]>(configurations.map(({ key }) => [key, []]));
    let customer = 0;
    const nextCustomer = () => {
      customer += 1;
      return `whatsapp:+1555${String(3_000_000 + customer).padStart(7, '0')}`;
    };
    // Interleaved, so a drift in the machine's load falls on every configuration alike. A warm-up turn first.
    await timeToReply(base, fake, tenants.get('baseline')!, nextCustomer());
    for (let round = 0; round < samples; round += 1) {
      for (const key of ['baseline', 'typing', 'slowTyping'] as const) {
        if (key === 'slowTyping') fake.injectFault('typing', { kind: 'delay', ms: 2_000 });
        results.get(key)!.push(await timeToReply(base, fake, tenants.get(key)!, nextCustomer()));
      }
    }
    for (let round = 0; round < burstSamples; round += 1) {
      results.get('burst')!.push(await timeToReply(base, fake, tenants.get('burst')!, nextCustomer()));
    }
    const baseline = results.get('baseline')!;
    const typingRequests = fake.requestCounts.typing;
    console.error(`typing indicator requests at the fake: ${typingRequests}; answered: ${fake.typingIndicators.length}`);
    return [
      summarize(NAME, 'time to reply, no burst window, typing indicator off (baseline)', 'ms', baseline),
      summarize(NAME, 'time to reply, typing indicator on', 'ms', results.get('typing')!, {
        baselineSamples: baseline,
        baselineLabel: 'typing off',
      }),
      summarize(
        NAME,
        "time to reply, typing indicator on, Twilio's typing endpoint answering after 2 s",
        'ms',
        results.get('slowTyping')!,
        {
          baselineSamples: baseline,
          baselineLabel: 'typing off',
        },
      ),
      summarize(NAME, 'time to reply, default burst window (2 s quiet), one message', 'ms', results.get('burst')!, {
        baselineSamples: baseline,
        baselineLabel: 'no burst window',
      }),
      {
        ...summarize(NAME, 'extra latency of the typing indicator (median difference)', 'ms', [
          median(results.get('typing')!) - median(baseline),
        ]),
      },
      summarize(NAME, 'extra latency of the burst window (median difference)', 'ms', [median(results.get('burst')!) - median(baseline)]),
    ];
  } finally {
    server?.kill('SIGTERM');
    await fake.close();
    await setup.close();
  }
}
