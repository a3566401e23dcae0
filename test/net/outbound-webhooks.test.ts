import type http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  WebhookSender,
  type WebhookSenderOptions,
  webhookSigningSecret,
} from '../../src/net/outbound-webhooks';
import { SafeHttpClient } from '../../src/net/safe-http';
import { type LoopbackServer, startLoopback } from '../fakes/llm-faults';

const APP_KEY = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
const TENANT = '9b2f3c1e-0000-4000-8000-000000000001';

describe('webhook signatures', () => {
  // Computed independently: Python's hmac/hashlib and `openssl dgst -sha256 -hmac`.
  const secret = '3c6e0b8a9c15224a8228b9a98ca1531d3c6e0b8a9c15224a8228b9a98ca1531d';
  const body = '{"type":"conversation.handoff","tenant_id":"t1"}';

  it('signs HMAC-SHA256 over "timestamp.body" (known vector)', () => {
    expect(signWebhook(secret, 1700000000, body)).toBe('v1=6b4a1a59a3d5756640553724899fd9010f642a1e9b79e80338c1b91492802176');
  });

  it("derives each tenant's secret from the app key (HKDF-SHA256, known vector) and rotates it by generation", () => {
    expect(webhookSigningSecret(APP_KEY, TENANT)).toBe('007f1d6e383f150ca13f7bc15c036db4eed81a722ddcf5ad8ade95898a132acd');
    expect(webhookSigningSecret(APP_KEY, '9b2f3c1e-0000-4000-8000-000000000002')).not.toBe(webhookSigningSecret(APP_KEY, TENANT));
    expect(webhookSigningSecret(APP_KEY, TENANT, 2)).not.toBe(webhookSigningSecret(APP_KEY, TENANT));
  });

  it('verifies as a receiver would: the right secret, body and a fresh timestamp only', () => {
    const signature = signWebhook(secret, 1700000000, body);
    const check = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret, timestamp: '1700000000', signature, body, nowSeconds: 1700000100, ...overrides });
    expect(check({})).toBe(true);
    expect(check({ signature: `v1=${'0'.repeat(64)}, ${signature}` })).toBe(true);
    expect(check({ body: body.replace('t1', 't2') })).toBe(false);
    expect(check({ secret: secret.replace('3c', '4c') })).toBe(false);
    expect(check({ timestamp: '1700000001' })).toBe(false);
    expect(check({ nowSeconds: 1700000000 + 301 })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
  });
});

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('WebhookSender', () => {
  let receiver: LoopbackServer & { received: Received[]; answers: Array<number | 'hang'>; hostPort: string };
  let client: SafeHttpClient;
  let slept: number[];

  beforeAll(async () => {
    const received: Received[] = [];
    const answers: Array<number | 'hang'> = [];
    const server = await startLoopback((request, body, response) => {
      received.push({ headers: request.headers, body });
      const answer = answers.shift() ?? 204;
      if (answer === 'hang') return;
      response.writeHead(answer, answer === 429 ? { 'retry-after': '2' } : {});
      response.end(answer === 204 ? undefined : 'x'.repeat(200_000));
    });
    receiver = { ...server, received, answers, hostPort: new URL(server.url).host };
    client = new SafeHttpClient({ requireHttps: false, allowedHosts: [receiver.hostPort] });
  });
  afterAll(async () => {
    await client.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.answers.length = 0;
    slept = [];
  });

  const sender = (options: Partial<WebhookSenderOptions> = {}) =>
    new WebhookSender({
      client,
      appKey: APP_KEY,
      logger: pino({ level: 'silent' }),
      random: () => 0.5,
      now: () => 1_700_000_000_000,
      sleep: async (milliseconds) => {
        slept.push(milliseconds);
      },
      ...options,
    });
  const delivery = (url = `${receiver.url}/hooks`) => ({
    tenantId: TENANT,
    url,
    event: 'conversation.handoff',
    payload: { type: 'conversation.handoff', n: 1 },
  });

  it('POSTs the JSON body with headers a receiver can verify with the tenant secret', async () => {
    const result = await sender().deliver(delivery());
    expect(result).toEqual({ delivered: true, status: 204, attempts: 1 });
    const [{ headers, body }] = receiver.received;
    expect(JSON.parse(body)).toEqual({ type: 'conversation.handoff', n: 1 });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      [EVENT_HEADER]: 'conversation.handoff',
      [TIMESTAMP_HEADER]: '1700000000',
    });
    expect(headers[DELIVERY_HEADER]).toMatch(/^[0-9a-f-]{36}$/);
    const secret = webhookSigningSecret(APP_KEY, TENANT);
    expect(
      verifyWebhookSignature({
        secret,
        timestamp: headers[TIMESTAMP_HEADER] as string,
        signature: headers[SIGNATURE_HEADER] as string,
        body,
        nowSeconds: 1_700_000_000,
      }),
    ).toBe(true);
  });

  it('retries a 503 with backoff, then succeeds, keeping one delivery id', async () => {
    receiver.answers.push(503, 503);
    const result = await sender({ baseDelayMs: 1000 }).deliver(delivery());
    expect(result).toEqual({ delivered: true, status: 204, attempts: 3 });
    expect(slept).toEqual([750, 1500]); // half of 1 s and 2 s, plus half again times random 0.5
    expect(new Set(receiver.received.map(({ headers }) => headers[DELIVERY_HEADER])).size).toBe(1);
  });

  it('honours Retry-After on 429 within the cap', async () => {
    receiver.answers.push(429);
    const result = await sender({ baseDelayMs: 100 }).deliver(delivery());
    expect(result).toMatchObject({ delivered: true, attempts: 2 });
    expect(slept).toEqual([2000]);
  });

  it('does not retry a 400', async () => {
    receiver.answers.push(400);
    const result = await sender().deliver(delivery());
    expect(result).toEqual({ delivered: false, attempts: 1, status: 400, reason: 'answered 400' });
    expect(receiver.received).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('gives up after the bounded number of attempts on network errors', async () => {
    const closed = await startLoopback(() => undefined);
    const url = `${closed.url}/hooks`;
    await closed.close();
    const refusing = new SafeHttpClient({ requireHttps: false, allowedHosts: [new URL(url).host] });
    try {
      const result = await sender({ client: refusing, maxAttempts: 3 }).deliver({ ...delivery(), url });
      expect(result).toMatchObject({ delivered: false, attempts: 3, reason: expect.stringMatching(/^network/) });
      expect(slept).toHaveLength(2);
    } finally {
      await refusing.close();
    }
  });

  it('never sends to a refused URL, and never retries a refusal', async () => {
    const result = await sender({ client: new SafeHttpClient({ requireHttps: true }) }).deliver(delivery());
    expect(result).toMatchObject({ delivered: false, attempts: 1, reason: expect.stringMatching(/^forbidden_url/) });
    expect(receiver.received).toHaveLength(0);
  });

  it('sends in the background: a receiver that hangs costs the caller nothing, and settle() waits for it', async () => {
    receiver.answers.push('hang');
    const background = sender({ timeoutMs: 1000, maxAttempts: 1 });
    const started = performance.now();
    background.send(delivery());
    expect(performance.now() - started).toBeLessThan(200);
    await background.settle();
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(receiver.received).toHaveLength(1);
  });

  it('stops retrying on stop(): a delivery waiting in backoff ends at once', async () => {
    receiver.answers.push(503);
    const stopping = sender({
      sleep: (_milliseconds, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    stopping.send(delivery());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stopping.stop();
    expect(receiver.received).toHaveLength(1);
  });
});
