import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { type Database, openDatabase } from '../../src/db/data-source';
import { type BreakerTarget, CircuitBreaker, DEFAULT_BREAKER_OPTIONS } from '../../src/llm/circuit-breaker';
import { providerCredential } from '../../src/llm/provider-credential';
import { ProviderRegistry } from '../../src/llm/provider-registry';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';
import type { UpstreamErrorKind } from '../../src/llm/types';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { letBreakerTimePass } from './breaker-time';
import { insertTenant, recordAttempt } from './factories';

/** gpt-4o with the platform's key: the breaker every tenant without a key of its own shares. */
const model: BreakerTarget = {
  provider: 'openai',
  model: 'gpt-4o',
  credential: providerCredential({ provider: 'openai', baseUrl: undefined, apiKey: 'sk-platform', tenantId: null }),
};
let database: TestDatabase;
let second: Database;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  // A second instance: its own DataSource and pool on the same database.
  second = await openDatabase({ url: database.connectionUrl, poolSize: 2 });
});
afterAll(async () => {
  await second.close();
  await database.close();
});
beforeEach(async () => {
  await database.truncateAll();
  tenantId = (await insertTenant(database.dataSource.manager)).id;
});

// The default cooldown (30 s) and probe lease (60 s): time passes by moving the recorded timestamps, not by waiting.
const options = { refreshMs: 0 };
const { cooldownMs, probeLeaseMs } = DEFAULT_BREAKER_OPTIONS;

/** Records the attempt in provider_usage (as the failover engine does) and tells the breaker. */
async function fail(breaker: CircuitBreaker, kind: UpstreamErrorKind = 'server', target = model, tenant = tenantId) {
  await recordAttempt(database.dataSource.manager, tenant, target, kind);
  await breaker.recordFailure(target, kind);
}
async function succeed(breaker: CircuitBreaker, target = model, tenant = tenantId) {
  await recordAttempt(database.dataSource.manager, tenant, target, 'success');
  await breaker.recordSuccess(target);
}
/** `milliseconds` pass for the breakers; each instance then refreshes its snapshot (as its next reply would). */
async function letTimePass(milliseconds: number, ...breakers: CircuitBreaker[]) {
  await letBreakerTimePass(database.dataSource.manager, milliseconds);
  await Promise.all(breakers.map((breaker) => breaker.refresh()));
}

describe('CircuitBreaker', () => {
  it('opens after 3 consecutive failures, and a second instance honours it', async () => {
    const first = new CircuitBreaker(database.dataSource.manager, options);
    const other = new CircuitBreaker(second.dataSource.manager, options);
    await other.ensureFresh();
    await fail(first);
    await fail(first);
    expect(first.isOpen(model)).toBe(false);
    await fail(first);
    expect(first.isOpen(model)).toBe(true);
    expect(other.isOpen(model)).toBe(false); // its snapshot is older than the opening
    await other.ensureFresh();
    expect(other.isOpen(model)).toBe(true);
    expect(await other.acquire(model)).toBe('open');
  });

  it('opens when the failure rate over the window reaches 50% with at least 5 calls', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    await fail(breaker);
    await succeed(breaker);
    await fail(breaker);
    await succeed(breaker);
    expect(breaker.isOpen(model)).toBe(false); // 2 of 4: too few calls
    await fail(breaker);
    expect(breaker.isOpen(model)).toBe(true); // 3 of 5, never 3 in a row
  });

  it('stays closed below the rate threshold', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (const outcome of ['fail', 'ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok'] as const) {
      if (outcome === 'fail') await fail(breaker);
      else await succeed(breaker);
    }
    expect(breaker.isOpen(model)).toBe(false);
  });

  it("ignores failures that are not the provider's fault (bad request, content filter, a refused destination)", async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (const kind of ['bad_request', 'content_filter', 'forbidden_destination', 'context_length', 'bad_request'] as const)
      await fail(breaker, kind);
    expect(breaker.isOpen(model)).toBe(false);
  });

  it('lets exactly one instance probe after the cooldown, and closes on its success', async () => {
    const first = new CircuitBreaker(database.dataSource.manager, options);
    const other = new CircuitBreaker(second.dataSource.manager, options);
    for (let index = 0; index < 3; index += 1) await fail(first);
    await other.refresh();
    expect(await first.acquire(model)).toBe('open');
    await letTimePass(cooldownMs + 1, first, other);
    const permits = await Promise.all([first.acquire(model), other.acquire(model)]);
    expect(permits.sort()).toEqual(['open', 'probe']);
    const prober = permits[0] === 'probe' ? first : other;
    const bystander = prober === first ? other : first;
    expect(bystander.isOpen(model)).toBe(true);
    await prober.recordSuccess(model);
    await bystander.refresh();
    expect(bystander.isOpen(model)).toBe(false);
    expect(await bystander.acquire(model)).toBe('closed');
  });

  it('lets another instance probe when the probing instance never reports (a stale claim)', async () => {
    const crashed = new CircuitBreaker(database.dataSource.manager, options);
    const survivor = new CircuitBreaker(second.dataSource.manager, options);
    for (let index = 0; index < 3; index += 1) await fail(crashed);
    await letTimePass(cooldownMs + 1, crashed);
    expect(await crashed.acquire(model)).toBe('probe');
    await survivor.refresh();
    expect(survivor.isOpen(model)).toBe(true);
    expect(await survivor.acquire(model)).toBe('open');
    await letTimePass(probeLeaseMs + 1, survivor);
    expect(survivor.isOpen(model)).toBe(false);
    expect(await survivor.acquire(model)).toBe('probe');
  });

  it('reopens when the probe fails', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (let index = 0; index < 3; index += 1) await fail(breaker);
    await letTimePass(cooldownMs + 1, breaker);
    expect(await breaker.acquire(model)).toBe('probe');
    await fail(breaker);
    expect(breaker.isOpen(model)).toBe(true);
    expect(await breaker.acquire(model)).toBe('open');
  });

  it('does not count failures from before the last close again', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (let index = 0; index < 3; index += 1) await fail(breaker);
    await letTimePass(cooldownMs + 1, breaker);
    expect(await breaker.acquire(model)).toBe('probe');
    await succeed(breaker);
    await fail(breaker);
    await succeed(breaker);
    expect(breaker.isOpen(model)).toBe(false);
  });
});

describe('CircuitBreaker visibility across instances', () => {
  it('shows a breaker opened by one instance to another within its refresh period (2 s by default, under the 5 s target)', async () => {
    const first = new CircuitBreaker(database.dataSource.manager);
    // The other instance's clock is the test's: its refresh period passes when the test says so.
    let elapsed = 0;
    const other = new CircuitBreaker(second.dataSource.manager, {}, () => Date.now() + elapsed);
    expect(other.options.refreshMs).toBeLessThanOrEqual(5_000);
    await other.ensureFresh();
    for (let index = 0; index < 3; index += 1) await fail(first);
    elapsed += other.options.refreshMs;
    await other.ensureFresh();
    expect(other.isOpen(model)).toBe(true);
  });
});

describe('CircuitBreaker per credential', () => {
  /** gpt-4o at the platform's base URL with a tenant's own key, or with the platform's key (`tenant` null). */
  const gpt4oWith = (apiKey: string, tenant: string | null): BreakerTarget => ({
    provider: 'openai',
    model: 'gpt-4o',
    credential: providerCredential({ provider: 'openai', baseUrl: undefined, apiKey, tenantId: tenant }),
  });
  let otherTenantId: string;
  beforeEach(async () => {
    otherTenantId = (await insertTenant(database.dataSource.manager)).id;
  });

  it("opens only the breaker of the tenant whose own key is rejected (401), not another tenant's on the same model", async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    const tenantA = gpt4oWith('sk-tenant-a', tenantId);
    const tenantB = gpt4oWith('sk-tenant-b', otherTenantId);
    for (let index = 0; index < 3; index += 1) await fail(breaker, 'auth', tenantA, tenantId);
    expect(breaker.isOpen(tenantA)).toBe(true);
    expect(breaker.isOpen(tenantB)).toBe(false);
    expect(await breaker.acquire(tenantB)).toBe('closed');
    // The platform key's breaker, which every tenant without a key of its own uses, is untouched as well.
    expect(breaker.isOpen(gpt4oWith('sk-platform', null))).toBe(false);
  });

  it("counts only the credential's own attempts in the failure-rate window", async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    const tenantA = gpt4oWith('sk-tenant-a', tenantId);
    const tenantB = gpt4oWith('sk-tenant-b', otherTenantId);
    await fail(breaker, 'rate_limit', tenantA, tenantId);
    await succeed(breaker, tenantA, tenantId);
    await fail(breaker, 'rate_limit', tenantA, tenantId);
    await succeed(breaker, tenantA, tenantId);
    await succeed(breaker, tenantB, otherTenantId);
    // B: 1 failure in 2 calls, too few to judge; judged with A's attempts it would be 3 in 6, enough to open.
    await fail(breaker, 'rate_limit', tenantB, otherTenantId);
    expect(breaker.isOpen(tenantB)).toBe(false);
    expect(breaker.isOpen(tenantA)).toBe(false);
  });

  it("shares the platform key's breaker across tenants and instances: one tenant's failures open it for the others", async () => {
    const first = new CircuitBreaker(database.dataSource.manager, options);
    const other = new CircuitBreaker(second.dataSource.manager, options);
    const platform = gpt4oWith('sk-platform', null);
    await other.ensureFresh();
    // Tenant A's calls on the first instance; B is served by the second.
    for (let index = 0; index < 3; index += 1) await fail(first, 'server', platform, tenantId);
    await other.refresh();
    expect(other.isOpen(platform)).toBe(true);
    expect(await other.acquire(platform)).toBe('open');
    const rows = await database.dataSource.query(`SELECT credential_fingerprint, tenant_id FROM llm_circuit_breakers`);
    expect(rows).toEqual([{ credential_fingerprint: platform.credential.fingerprint, tenant_id: null }]);
  });

  it('resolves the credential a request uses: the platform key one for every tenant without its own, an own key per tenant', () => {
    const registry = new ProviderRegistry({ openai: { apiKey: 'sk-platform' }, gemini: {} });
    const policy = resolveRoutingPolicy({});
    const resolved = (credentials: { openaiApiKey?: string }, tenant: string) =>
      registry.forTenant(credentials, policy, tenant).credential('openai');
    expect(resolved({}, tenantId)).toEqual(gpt4oWith('sk-platform', null).credential);
    expect(resolved({}, otherTenantId)).toEqual(gpt4oWith('sk-platform', null).credential);
    expect(resolved({ openaiApiKey: 'sk-tenant-a' }, tenantId)).toEqual(gpt4oWith('sk-tenant-a', tenantId).credential);
    // The same key in two tenants is still two credentials: neither can open, or see, the other's breaker.
    expect(resolved({ openaiApiKey: 'sk-tenant-a' }, otherTenantId)).not.toEqual(resolved({ openaiApiKey: 'sk-tenant-a' }, tenantId));
  });

  it("keeps a tenant's breakers with the tenant: they carry its id and go when it is deleted", async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (let index = 0; index < 3; index += 1) await fail(breaker, 'server', gpt4oWith('sk-tenant-a', tenantId), tenantId);
    for (let index = 0; index < 3; index += 1) await fail(breaker, 'server', gpt4oWith('sk-platform', null), tenantId);
    const owners = async () =>
      (await database.dataSource.query(`SELECT tenant_id FROM llm_circuit_breakers ORDER BY tenant_id NULLS FIRST`)).map(
        (row: { tenant_id: string | null }) => row.tenant_id,
      );
    expect(await owners()).toEqual([null, tenantId]);
    await database.dataSource.query(`DELETE FROM tenants WHERE id = $1`, [tenantId]);
    expect(await owners()).toEqual([null]);
  });

  it('stores a fingerprint of the key, never the key', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    const own = gpt4oWith('sk-tenant-secret', tenantId);
    await fail(breaker, 'server', own, tenantId);
    expect(own.credential.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const stored = JSON.stringify([
      await database.dataSource.query(`SELECT * FROM llm_circuit_breakers`),
      await database.dataSource.query(`SELECT * FROM provider_usage`),
    ]);
    expect(stored).toContain(own.credential.fingerprint);
    expect(stored).not.toContain('sk-tenant-secret');
  });
});

describe('migration CredentialBreakers1764001100000', () => {
  it('reverts to one breaker per provider and model (the platform one) and back', async () => {
    const query = (sql: string, values: unknown[] = []) => database.dataSource.query(sql, values);
    const keyColumns = async () =>
      (
        await query(
          `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = 'llm_circuit_breakers'::regclass AND i.indisprimary ORDER BY a.attname`,
        )
      ).map((row: { attname: string }) => row.attname);
    const usageIndexes = async () =>
      (
        await query(
          `SELECT indexname FROM pg_indexes WHERE tablename = 'provider_usage' AND indexname IN ('ix_provider_usage_model_created', 'ix_provider_usage_credential_created')`,
        )
      ).map((row: { indexname: string }) => row.indexname);
    await query(
      `INSERT INTO llm_circuit_breakers (provider, model, credential_fingerprint, tenant_id, state, updated_at)
       VALUES ('openai', 'gpt-4o', 'platform-old', NULL, 'open', now() - interval '1 hour'),
              ('openai', 'gpt-4o', 'platform-new', NULL, 'closed', now()),
              ('openai', 'gpt-4o', 'tenant', $1, 'open', now())`,
      [tenantId],
    );
    const [breakers, usageIndex] = ['CredentialBreakers1764001100000', 'UsageCredentialIndex1764001100001'].map((name) => {
      const migration = MIGRATIONS.find((candidate) => candidate.name === name);
      if (!migration) throw new Error(`${name} is not registered in migrations/index.ts`);
      return migration;
    });
    const runner = database.dataSource.createQueryRunner();
    try {
      expect(await keyColumns()).toEqual(['credential_fingerprint', 'model', 'provider']);
      await new usageIndex().down(runner);
      await new breakers().down(runner);
      expect(await keyColumns()).toEqual(['model', 'provider']);
      expect(await query(`SELECT provider, model, state FROM llm_circuit_breakers`)).toEqual([
        { provider: 'openai', model: 'gpt-4o', state: 'closed' },
      ]);
      expect(await usageIndexes()).toEqual(['ix_provider_usage_model_created']);
      await new breakers().up(runner);
      await new usageIndex().up(runner);
      expect(await keyColumns()).toEqual(['credential_fingerprint', 'model', 'provider']);
      expect(await query(`SELECT * FROM llm_circuit_breakers`)).toEqual([]);
      expect(await usageIndexes()).toEqual(['ix_provider_usage_credential_created']);
    } finally {
      await runner.release();
    }
  });
});
