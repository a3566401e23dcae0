import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, inboundParams, postInbound } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

describe('GET /metrics', () => {
  let context: TestContext;

  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(async () => {
    await context.close();
  });

  const scrape = async () => {
    const response = await request(context.app).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    return response.text;
  };

  it('exposes webhook latency, inbox backlog, provider calls and cost, breaker state and job runs', async () => {
    const fixture = await createTenant(context);
    await postInbound(context, fixture, inboundParams(fixture)).expect(200);
    context.services.metrics.recordProviderCall({
      provider: 'openai',
      model: 'gpt-4o-mini',
      outcome: 'success',
      latencySeconds: 0.8,
      costUsd: 0.0025,
    });
    context.services.metrics.recordProviderCall({ provider: 'openai', model: 'gpt-4o-mini', outcome: 'rate_limited', latencySeconds: 0.1 });
    await context.database.dataSource.query(
      `INSERT INTO llm_circuit_breakers (provider, model, credential_fingerprint, state) VALUES ('gemini', 'gemini-2.5-flash', 'platform-key', 'open')`,
    );
    await context.services.jobRunner.run('provider-health', async () => ({ rowsTouched: 0 }));

    const text = await scrape();
    expect(text).toContain('parley_webhook_ack_seconds_count{outcome="accepted"} 1');
    // The processor is not started in this test, so the accepted message waits.
    expect(text).toMatch(/^parley_inbox_backlog 1$/m);
    expect(text).toContain('parley_provider_calls_total{provider="openai",model="gpt-4o-mini",outcome="success"} 1');
    expect(text).toContain('parley_provider_calls_total{provider="openai",model="gpt-4o-mini",outcome="rate_limited"} 1');
    expect(text).toContain('parley_provider_call_seconds_bucket{le="1",provider="openai",model="gpt-4o-mini",outcome="success"} 1');
    expect(text).toContain('parley_provider_cost_usd_total{provider="openai",model="gpt-4o-mini"} 0.0025');
    expect(text).toContain('parley_circuit_breaker_state{provider="gemini",model="gemini-2.5-flash",credential="platform"} 2');
    expect(text).toMatch(/^parley_job_last_duration_seconds\{job="provider-health",status="succeeded"\} [0-9.e-]+$/m);
    const lastSuccess = Number(/^parley_job_last_success_timestamp_seconds\{job="provider-health"\} ([0-9.e+]+)$/m.exec(text)?.[1]);
    const [{ finished }] = await context.database.dataSource.query(
      `SELECT extract(epoch FROM finished_at)::float8 AS finished FROM job_runs WHERE job = 'provider-health' AND status = 'succeeded'`,
    );
    expect(lastSuccess).toBeCloseTo(finished, 3);
    expect(text).not.toContain(fixture.tenant.id);
  });

  it("reports the platform's breakers by model, and tenants' own ones as counts that name no tenant, key or tenant-made name", async () => {
    const [first, second] = [await createTenant(context), await createTenant(context)];
    const insert = (provider: string, model: string, fingerprint: string, tenantId: string | null, state: string) =>
      context.database.dataSource.query(
        `INSERT INTO llm_circuit_breakers (provider, model, credential_fingerprint, tenant_id, state) VALUES ($1, $2, $3, $4, $5)`,
        [provider, model, fingerprint, tenantId, state],
      );
    await context.database.dataSource.query(`DELETE FROM llm_circuit_breakers`);
    await insert('openai', 'gpt-4o', 'fingerprint-platform', null, 'closed');
    await insert('openai', 'gpt-4o', 'fingerprint-first', first.tenant.id, 'open');
    await insert('openai', 'gpt-4o', 'fingerprint-second', second.tenant.id, 'open');
    await insert('openai', 'ft:gpt-4o:acme-shoes::x1', 'fingerprint-first', first.tenant.id, 'open');
    await insert('acme-internal-llm', 'llama3.1', 'fingerprint-compatible', first.tenant.id, 'half_open');

    const text = await scrape();
    // The platform's gpt-4o breaker stays closed whatever the tenants' own keys do.
    expect(text).toContain('parley_circuit_breaker_state{provider="openai",model="gpt-4o",credential="platform"} 0');
    expect(text).not.toMatch(/^parley_circuit_breaker_state\{[^}]*credential="tenant"/m);
    expect(text).toContain('parley_circuit_breakers{provider="openai",model="gpt-4o",credential="platform",state="closed"} 1');
    expect(text).toContain('parley_circuit_breakers{provider="openai",model="gpt-4o",credential="tenant",state="open"} 2');
    expect(text).toContain('parley_circuit_breakers{provider="openai",model="other",credential="tenant",state="open"} 1');
    expect(text).toContain('parley_circuit_breakers{provider="compatible",model="other",credential="tenant",state="half_open"} 1');
    for (const secret of [first.tenant.id, second.tenant.id, 'fingerprint-', 'acme']) expect(text).not.toContain(secret);
  });

  it('counts every model attempt of a real reply by provider, model and outcome', async () => {
    const fixture = await createTenant(context);
    await postInbound(context, fixture, inboundParams(fixture, { Body: 'What are your opening hours?' })).expect(200);
    // No provider keys are configured, so the routed chain ends with the offline answerer.
    await context.services.processor.drain();
    expect(await context.database.dataSource.query(`SELECT 1 FROM provider_usage WHERE tenant_id = $1`, [fixture.tenant.id])).not.toEqual(
      [],
    );
    // The first test's message is answered too once the processor runs: compare with every recorded attempt.
    const [usage] = await context.database.dataSource.query(
      `SELECT provider, model, count(*)::int AS attempts FROM provider_usage WHERE success GROUP BY provider, model`,
    );
    const text = await scrape();
    expect(text).toContain(
      `parley_provider_calls_total{provider="${usage.provider}",model="${usage.model}",outcome="success"} ${usage.attempts}`,
    );
    expect(text).toMatch(
      new RegExp(
        `^parley_provider_call_seconds_count\\{provider="${usage.provider}",model="${usage.model}",outcome="success"\\} ${usage.attempts}$`,
        'm',
      ),
    );
  });
});

describe('GET /metrics with METRICS_TOKEN set', () => {
  const token = 'scrape-token-0123456789';
  let context: TestContext;

  beforeAll(async () => {
    context = await createTestContext({ environment: { METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await context.close();
  });

  it('answers 401 in the error shape without the bearer token, and the metrics with it', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${token}`, token]) {
      const attempt = request(context.app).get('/metrics');
      const response = await (authorization ? attempt.set('Authorization', authorization) : attempt);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: { code: 'unauthorized', message: 'GET /metrics requires the METRICS_TOKEN as a bearer token' },
      });
    }
    const scraped = await request(context.app).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(scraped.text).toContain('parley_inbox_backlog');
  });
});
