import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/data-source';
import { CircuitBreaker, DEFAULT_BREAKER_OPTIONS } from '../../src/llm/circuit-breaker';
import type { UpstreamErrorKind } from '../../src/llm/types';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { letBreakerTimePass } from './breaker-time';
import { insertTenant, recordAttempt } from './factories';

const model = { provider: 'openai', model: 'gpt-4o' };
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
async function fail(breaker: CircuitBreaker, kind: UpstreamErrorKind = 'server') {
  await recordAttempt(database.dataSource.manager, tenantId, model, kind);
  await breaker.recordFailure(model, kind);
}
async function succeed(breaker: CircuitBreaker) {
  await recordAttempt(database.dataSource.manager, tenantId, model, 'success');
  await breaker.recordSuccess(model);
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

  it("ignores failures that are not the provider's fault (bad request, content filter, auth)", async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, options);
    for (const kind of ['bad_request', 'content_filter', 'auth', 'context_length', 'bad_request'] as const) await fail(breaker, kind);
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
