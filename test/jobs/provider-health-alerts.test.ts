import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { checkProviderHealth } from '../../src/jobs/provider-health-alerts';
import { createLogger } from '../../src/logger';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  WebhookSender,
  webhookSigningSecret,
} from '../../src/net/outbound-webhooks';
import { SafeHttpClient } from '../../src/net/safe-http';
import { createTestContext, type TestContext } from '../support/test-context';
import { insertTenant, insertUsage, type UsageRow } from './usage-rows';

/** A loopback server recording alert POSTs (parsed, and raw with their headers); `hang` leaves requests unanswered. */
async function alertReceiver(options: { hang?: boolean } = {}) {
  const received: Array<Record<string, unknown>> = [];
  const raw: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body));
      raw.push({ headers: request.headers, body });
      if (!options.hang) response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    hostPort: `127.0.0.1:${port}`,
    received,
    raw,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A logger whose JSON lines are kept for assertions. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

const APP_KEY = Buffer.alloc(32, 7);

/** The alert sender, opted in to the given loopback receivers; retries once, without waiting. */
function webhookSender(logger: Logger, allowedHosts: string[]) {
  return new WebhookSender({
    client: new SafeHttpClient({ requireHttps: false, allowedHosts }),
    appKey: APP_KEY,
    logger,
    maxAttempts: 2,
    sleep: async () => undefined,
  });
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const calls = (count: number, row: Omit<UsageRow, 'at'>): UsageRow[] =>
  Array.from({ length: count }, (_, index) => ({ ...row, at: minutesAgo(10 + index) }));

describe('provider health', () => {
  let context: TestContext;
  let receiver: Awaited<ReturnType<typeof alertReceiver>>;

  beforeAll(async () => {
    context = await createTestContext();
    receiver = await alertReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await context.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    receiver.received.length = 0;
  });

  const manager = () => context.database.dataSource.manager;

  it('alerts once when a model turns unhealthy and once when it recovers, by log line and tenant webhook', async () => {
    const tenant = await insertTenant(manager(), { alertWebhookUrl: receiver.url });
    await insertUsage(manager(), tenant.id, [
      ...calls(8, { model: 'failing', latencyMs: 100 }),
      ...calls(2, { model: 'failing', latencyMs: 100, success: false }),
      ...calls(10, { model: 'fine', latencyMs: 100 }),
      ...calls(4, { model: 'slow', latencyMs: 6000, costUsd: '0.250000000000' }),
      // Older than 24 hours: not in the window.
      { at: minutesAgo(25 * 60), model: 'fine', success: false },
    ]);
    const { logger, lines } = capturingLogger();
    const webhooks = webhookSender(logger, [receiver.hostPort]);

    const first = await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 });
    await webhooks.settle();
    expect(first.alerts.map((alert) => [alert.model, alert.previousState, alert.state]).sort()).toEqual([
      ['failing', 'healthy', 'unhealthy'],
      ['slow', 'healthy', 'unhealthy'],
    ]);
    const slow = first.alerts.find((alert) => alert.model === 'slow')!;
    expect(slow).toMatchObject({
      calls: 4,
      successRate: 1,
      averageLatencyMs: 6000,
      p95LatencyMs: 6000,
      costUsd: '1.000000000000',
      reasons: ['average latency 6000 ms above 5000 ms'],
    });
    expect(first.alerts.find((alert) => alert.model === 'failing')!.reasons).toEqual(['failure rate 20.0% above 10%']);
    expect(receiver.received.map((body) => [body.model, body.state, body.tenant_id]).sort()).toEqual([
      ['failing', 'unhealthy', tenant.id],
      ['slow', 'unhealthy', tenant.id],
    ]);
    expect(
      lines
        .filter((line) => line.alert === 'provider_health' && line.msg === 'provider unhealthy')
        .map((line) => line.model)
        .sort(),
    ).toEqual(['failing', 'slow']);
    for (const { headers, body } of receiver.raw) {
      const signed = { timestamp: headers[TIMESTAMP_HEADER] as string, signature: headers[SIGNATURE_HEADER] as string, body };
      expect(verifyWebhookSignature({ secret: webhookSigningSecret(APP_KEY, tenant.id), ...signed })).toBe(true);
    }

    const second = await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 });
    await webhooks.settle();
    expect(second.alerts).toEqual([]);
    expect(receiver.received).toHaveLength(2);

    // 2 failures in 20 calls is exactly 10%: not above the threshold.
    await insertUsage(manager(), tenant.id, calls(10, { model: 'failing', latencyMs: 100 }));
    const third = await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 });
    await webhooks.settle();
    expect(third.alerts.map((alert) => [alert.model, alert.previousState, alert.state])).toEqual([['failing', 'unhealthy', 'healthy']]);
    expect(receiver.received.at(-1)).toMatchObject({
      type: 'provider_health',
      model: 'failing',
      state: 'healthy',
      previous_state: 'unhealthy',
    });
    const [state] = await manager().query(`SELECT state, reasons FROM provider_health_states WHERE tenant_id = $1 AND model = 'slow'`, [
      tenant.id,
    ]);
    expect(state).toEqual({ state: 'unhealthy', reasons: ['average latency 6000 ms above 5000 ms'] });
  });

  it('resolves an unhealthy model that has had no call for 24 hours', async () => {
    const tenant = await insertTenant(manager());
    await insertUsage(manager(), tenant.id, calls(3, { model: 'gone', success: false }));
    const { logger } = capturingLogger();
    const webhooks = webhookSender(logger, []);
    expect((await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 })).alerts).toHaveLength(1);
    await manager().query(`UPDATE provider_usage SET created_at = now() - interval '25 hours'`);
    const resolved = await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 });
    expect(resolved.alerts).toEqual([
      expect.objectContaining({ model: 'gone', previousState: 'unhealthy', state: 'healthy', reasons: ['no calls in the last 24 hours'] }),
    ]);
    expect((await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 2000 })).alerts).toEqual([]);
  });

  it('keeps tenants apart and survives a webhook that never answers', async () => {
    const hanging = await alertReceiver({ hang: true });
    try {
      const quiet = await insertTenant(manager(), { alertWebhookUrl: hanging.url });
      const other = await insertTenant(manager());
      await insertUsage(manager(), quiet.id, calls(5, { model: 'shared', success: false }));
      await insertUsage(manager(), other.id, calls(5, { model: 'shared' }));
      const { logger, lines } = capturingLogger();
      const webhooks = webhookSender(logger, [hanging.hostPort]);
      const result = await checkProviderHealth(manager(), { logger, webhooks, webhookTimeoutMs: 200 });
      expect(result.alerts.map((alert) => alert.tenantId)).toEqual([quiet.id]);
      await webhooks.settle();
      // Timed out, retried once, then given up on: logged with the tenant, never thrown into the job.
      expect(hanging.received).toHaveLength(2);
      expect(
        lines.some((line) => line.msg === 'webhook not delivered' && line.tenantId === quiet.id && line.webhook === 'provider_health'),
      ).toBe(true);
    } finally {
      await hanging.close();
    }
  });
});
