/**
 * Group commit (db/write-batcher.ts): writes asked for in one turn of the event loop share one statement, each caller
 * still learns about its own write, and a bad row fails only its own caller. Then the two real users of it: a
 * model attempt's usage row and a send marked sent.
 */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currentTenant, runAsTenant } from '../../src/db/fair-connections';
import { countStatementsOf } from '../../src/db/statement-counter';
import { WriteBatcher } from '../../src/db/write-batcher';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import { insertTenant, usageAttempt } from '../llm/factories';
import { useTestContext } from '../support/test-context';

/** A batcher over an in-memory table that refuses negative numbers, recording each statement it is asked for. */
function numbersTable(maxBatch?: number) {
  const statements: number[][] = [];
  const stored: number[] = [];
  const batcher = new WriteBatcher<number>(async (items) => {
    statements.push([...items]);
    if (items.some((item) => item < 0)) throw new Error('negative numbers are refused');
    stored.push(...items);
  }, maxBatch);
  return { batcher, statements, stored };
}

describe('a write batcher', () => {
  it('writes what is asked for in one turn of the event loop as one statement, and resolves each write after it', async () => {
    const { batcher, statements, stored } = numbersTable();
    await Promise.all([batcher.write(1), batcher.write(2), batcher.write(3)]);
    expect(statements).toEqual([[1, 2, 3]]);
    expect(stored).toEqual([1, 2, 3]);
  });

  it('writes a lone write at once, in a statement of its own', async () => {
    const { batcher, statements } = numbersTable();
    await batcher.write(1);
    await batcher.write(2);
    expect(statements).toEqual([[1], [2]]);
  });

  it('fails only the caller of a bad row: the others are written on their own', async () => {
    const { batcher, stored } = numbersTable();
    const outcomes = await Promise.allSettled([batcher.write(1), batcher.write(-1), batcher.write(3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(stored.sort()).toEqual([1, 3]);
  });

  it("writes each tenant's rows in a statement of its own, waiting in that tenant's connection queue", async () => {
    const statements: Array<{ tenant: string | undefined; items: number[] }> = [];
    const batcher = new WriteBatcher<number>(async (items) => {
      statements.push({ tenant: currentTenant(), items: [...items] });
    });
    await Promise.all([
      runAsTenant('tenant-a', () => batcher.write(1)),
      runAsTenant('tenant-b', () => batcher.write(2)),
      runAsTenant('tenant-a', () => batcher.write(3)),
      batcher.write(4),
    ]);
    expect(statements).toEqual([
      { tenant: 'tenant-a', items: [1, 3] },
      { tenant: 'tenant-b', items: [2] },
      { tenant: undefined, items: [4] },
    ]);
  });

  it('splits more writes than a statement takes into several statements', async () => {
    const { batcher, statements } = numbersTable(2);
    await Promise.all([1, 2, 3, 4, 5].map((number) => batcher.write(number)));
    expect(statements).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('usage rows and sends marked sent, batched', () => {
  const context = useTestContext();

  it('stores the usage rows of attempts recorded together in one statement', async () => {
    const manager = context.database.dataSource.manager;
    const tenant = await insertTenant(manager);
    const recorder = new ProviderUsageRecorder(manager);
    const statements = await countStatementsOf(() =>
      Promise.all(
        [1, 2, 3].map((attemptNumber) =>
          recorder.record(usageAttempt(tenant.id, { attemptNumber, costUsd: '0.000125', metadata: { note: `it's "${attemptNumber}"` } })),
        ),
      ),
    );
    expect(statements).toBe(1);
    const rows = await manager.query(
      'SELECT attempt_number, cost_usd, metadata FROM provider_usage WHERE tenant_id = $1 ORDER BY attempt_number',
      [tenant.id],
    );
    expect(rows).toEqual(
      [1, 2, 3].map((attemptNumber) => ({
        attempt_number: attemptNumber,
        cost_usd: '0.000125000000',
        metadata: { note: `it's "${attemptNumber}"` },
      })),
    );
  });

  it("refuses only the usage row that cannot be stored (a tenant that does not exist), not the others'", async () => {
    const manager = context.database.dataSource.manager;
    const tenant = await insertTenant(manager);
    const recorder = new ProviderUsageRecorder(manager);
    const outcomes = await Promise.allSettled([
      recorder.record(usageAttempt(tenant.id, { attemptNumber: 1 })),
      recorder.record(usageAttempt(crypto.randomUUID(), { attemptNumber: 2 })),
      recorder.record(usageAttempt(tenant.id, { attemptNumber: 3 })),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await manager.query('SELECT attempt_number FROM provider_usage WHERE tenant_id = $1 ORDER BY attempt_number', [tenant.id]);
    expect(rows.map((row: { attempt_number: number }) => row.attempt_number)).toEqual([1, 3]);
  });
});
