/**
 * Crash test (`npm run test:crash`): 500 signed webhooks across 50 conversations while the server is killed with
 * SIGKILL at random moments and restarted. Webhooks are retried like Twilio retries them. Customers type in bursts
 * (several messages within the 2 s quiet window, then a pause longer than it), and bursts are on, so most turns
 * answer several messages. At the end every accepted message must be answered by exactly one reply delivered to
 * (fake) Twilio (its own, or its burst's), and each conversation's replies must be in order.
 * Runs on PostgreSQL (TEST_DATABASE_URL, default the local server): that is what survives a process kill.
 */
import crypto from 'node:crypto';
import pino from 'pino';
import { Client } from 'pg';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTestEnvironment } from '../support/test-environment';
import { openDatabase, type Database } from '../../src/db/data-source';
import { TenantService } from '../../src/tenants/tenant-service';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { withDatabase } from '../support/postgres-url';
import { freePort, startServer, type StartedServer } from '../support/processes';
import { seededRandom } from '../support/seeded-random';

const CONVERSATIONS = 50;
const MESSAGES_PER_CONVERSATION = 10;
const TENANT_NUMBER = '+15005550777';

describe('crash test: SIGKILL during a burst of 500 webhooks', () => {
  const serverUrl = readTestEnvironment().testDatabaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';
  const databaseName = `parley_crash_${crypto.randomBytes(4).toString('hex')}`;
  const encryptionKey = crypto.randomBytes(32);
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');
  let database: Database;
  let fake: FakeTwilioServer;
  let server: StartedServer | undefined;
  let port: number;

  beforeAll(async () => {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    await admin.end();
    database = await openDatabase({ url: withDatabase(serverUrl, databaseName), migrate: true, poolSize: 4 });
    await new TenantService(database.dataSource.manager, encryptionKey).create({
      name: 'Crash',
      whatsappNumber: TENANT_NUMBER,
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
    });
    fake = await startFakeTwilio();
    fake.accounts.set(accountSid, authToken);
    port = await freePort();
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    await database?.close();
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  });

  const start = () =>
    startServer({
      PORT: String(port),
      DATABASE_URL: withDatabase(serverUrl, databaseName),
      APP_ENCRYPTION_KEY: encryptionKey.toString('hex'),
      TWILIO_API_BASE_URL: fake.url,
      // A short lease so a killed instance's claims come back quickly.
      INBOX_LEASE_SECONDS: '2',
      INBOX_POLL_INTERVAL_MS: '100',
      WHATSAPP_BURST_QUIET_MS: '2000',
      WHATSAPP_BURST_MAX_MS: '8000',
      LOG_LEVEL: 'error',
    });

  it('answers every accepted message exactly once, in order per conversation', async () => {
    // Pauses and kill moments are random, drawn from the run's seed (TEST_SEED replays their sequence).
    const customerPauses = seededRandom('crash customer pauses');
    const retryPauses = seededRandom('crash webhook retry pauses');
    const killIntervals = seededRandom('crash kill intervals');
    server = await start();
    const url = `http://127.0.0.1:${port}/v1/webhooks/twilio/whatsapp`;
    const accepted = new Map<string, { conversation: number; index: number }>();
    let webhookFailures = 0;
    let sending = true;

    // Each conversation sends its messages one after another, retrying each until acknowledged (as Twilio does).
    const sendConversation = async (conversation: number) => {
      const customer = `whatsapp:+1555${String(2_000_000 + conversation).padStart(7, '0')}`;
      for (let index = 0; index < MESSAGES_PER_CONVERSATION; index += 1) {
        // Customers pause between messages: the run then spans many kills instead of finishing before the first. Most
        // pauses are short (the next message joins the burst), some longer than the quiet window (a new burst).
        const pause = customerPauses() < 0.6 ? 50 + customerPauses() * 400 : 2_300 + customerPauses() * 1_200;
        await new Promise((resolve) => setTimeout(resolve, pause));
        const params = {
          MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
          AccountSid: accountSid,
          From: customer,
          To: `whatsapp:${TENANT_NUMBER}`,
          Body: `conversation ${conversation} message ${index}`,
          NumMedia: '0',
        };
        const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
        for (;;) {
          try {
            const response = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
              body: new URLSearchParams(params).toString(),
              signal: AbortSignal.timeout(5_000),
            });
            if (response.status === 200) {
              accepted.set(params.MessageSid, { conversation, index });
              break;
            }
            webhookFailures += 1;
          } catch {
            webhookFailures += 1;
          }
          await new Promise((resolve) => setTimeout(resolve, 100 + retryPauses() * 200));
        }
      }
    };

    let kills = 0;
    const killer = (async () => {
      while (sending) {
        await new Promise((resolve) => setTimeout(resolve, 300 + killIntervals() * 900));
        if (!sending) break;
        await server!.stop('SIGKILL');
        kills += 1;
        server = await start();
      }
    })();
    await Promise.all(Array.from({ length: CONVERSATIONS }, (_, conversation) => sendConversation(conversation)));
    sending = false;
    await killer;
    // One more kill after the last webhook, so the tail of the work is recovered too.
    await server!.stop('SIGKILL');
    kills += 1;
    server = await start();

    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ unfinished }] = await database.dataSource.query(
        `SELECT count(*)::int AS unfinished FROM messages WHERE status IN ('received', 'processing', 'pending', 'sending')`,
      );
      if (unfinished === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // Deliveries at (fake) Twilio, traced back to the turn's first inbound message through the status-callback
    // message id; every inbound message is answered by its turn's reply (a burst's other messages name its first).
    const replyOf = new Map<string, string>();
    const rows: Array<{ id: string; inbound_sid: string }> = await database.dataSource.query(
      `SELECT reply.id, inbound.message_sid AS inbound_sid FROM messages reply
       JOIN messages inbound ON inbound.id = reply.reply_to_message_id WHERE reply.author = 'bot'`,
    );
    for (const row of rows) replyOf.set(row.id, row.inbound_sid);
    const turnOf = new Map<string, string>();
    const inboundRows: Array<{ sid: string; head_sid: string | null }> = await database.dataSource.query(
      `SELECT message.message_sid AS sid, head.message_sid AS head_sid FROM messages message
       LEFT JOIN messages head ON head.id = message.burst_head_id WHERE message.direction = 'inbound'`,
    );
    for (const row of inboundRows) turnOf.set(row.sid, row.head_sid ?? row.sid);
    // A reply may have several parts (a long answer, or its feedback buttons as a message of their own when the answer
    // is too long for a button body: a burst's answer often is): each part must reach Twilio exactly once, and every
    // accepted message's turn must have delivered at least one.
    const deliveriesOfPart = new Map<string, number>();
    const answeredTurns = new Set<string>();
    const deliveryOrder = new Map<number, number[]>();
    for (const message of fake.messages) {
      const outboundId = new URL(message.params.StatusCallback).searchParams.get('message_id')!;
      const inboundSid = replyOf.get(outboundId);
      if (!inboundSid) continue;
      deliveriesOfPart.set(outboundId, (deliveriesOfPart.get(outboundId) ?? 0) + 1);
      answeredTurns.add(inboundSid);
      const origin = accepted.get(inboundSid);
      if (origin) deliveryOrder.set(origin.conversation, [...(deliveryOrder.get(origin.conversation) ?? []), origin.index]);
    }
    const [{ stored }] = await database.dataSource.query(`SELECT count(*)::int AS stored FROM messages WHERE direction = 'inbound'`);
    let duplicates = 0;
    let lost = 0;
    for (const sid of accepted.keys()) if (!answeredTurns.has(turnOf.get(sid) ?? sid)) lost += 1;
    for (const count of deliveriesOfPart.values()) if (count > 1) duplicates += count - 1;
    const turns = new Set(turnOf.values()).size;
    const answeredInBursts = [...turnOf.entries()].filter(([sid, head]) => sid !== head).length;
    const outOfOrder = [...deliveryOrder.values()].filter((order) =>
      order.some((value, position) => position > 0 && value < order[position - 1]),
    ).length;
    pino().info(
      {
        kills,
        webhookFailures,
        accepted: accepted.size,
        stored,
        turns,
        answeredInBursts,
        replyParts: deliveriesOfPart.size,
        deliveries: fake.messages.length,
        duplicates,
        lost,
        outOfOrder,
      },
      'crash test result',
    );

    expect(kills).toBeGreaterThanOrEqual(5);
    expect(accepted.size).toBe(CONVERSATIONS * MESSAGES_PER_CONVERSATION);
    expect(stored).toBe(accepted.size);
    expect({ duplicates, lost, outOfOrder }).toEqual({ duplicates: 0, lost: 0, outOfOrder: 0 });
    // Bursts happened: far fewer turns than messages.
    expect(answeredInBursts).toBeGreaterThan(accepted.size / 4);
  }, 600_000);
});
