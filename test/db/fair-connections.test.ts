/**
 * Tenant-fair database connections: when the pool is busy, connections go round-robin across the tenants waiting,
 * so one tenant's thousands of queued statements do not stand in front of another tenant's one.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { currentTenant, FairAdmission, runAsTenant, shareConnectionsFairly } from '../../src/db/fair-connections';
import type { EntityManager } from 'typeorm';
import { CircuitBreaker } from '../../src/llm/circuit-breaker';
import { useTestContext } from '../support/test-context';

describe('FairAdmission', () => {
  it('hands a freed slot to the tenants waiting in turn, oldest first within a tenant', async () => {
    const admission = new FairAdmission(1);
    const granted: string[] = [];
    await admission.acquire('burst');
    const waits = [
      ...['burst-1', 'burst-2', 'burst-3'].map((name) => admission.acquire('burst').then(() => granted.push(name))),
      admission.acquire('quiet').then(() => granted.push('quiet-1')),
    ];
    expect(admission.waiters).toBe(4);
    for (let release = 0; release < 4; release += 1) {
      admission.release();
      await Promise.resolve();
    }
    await Promise.all(waits);
    // The burst queued first, so its oldest goes first; then the quiet tenant, before the rest of the burst.
    expect(granted).toEqual(['burst-1', 'quiet-1', 'burst-2', 'burst-3']);
    admission.release();
    expect(admission.waiters).toBe(0);
    // All slots free again: the next caller is admitted at once.
    await admission.acquire('quiet');
  });

  it('refuses a caller that waited longer than the timeout, and keeps counting slots right', async () => {
    const admission = new FairAdmission(1, 20);
    await admission.acquire('a');
    await expect(admission.acquire('b')).rejects.toThrow('timeout exceeded when trying to connect');
    expect(admission.waiters).toBe(0);
    admission.release();
    await admission.acquire('c');
  });
});

describe('shareConnectionsFairly on a pg pool', () => {
  const context = useTestContext();

  it("gives a waiting tenant's statement the next free connection, ahead of another tenant's earlier backlog", async () => {
    const pool = new pg.Pool({ connectionString: context.database.connectionUrl, max: 2 });
    shareConnectionsFairly(pool, 2);
    try {
      // Both connections held by the bursty tenant; three more of its connects and then one of the quiet tenant wait.
      const held = await runAsTenant('burst', () => Promise.all([pool.connect(), pool.connect()]));
      const order: string[] = [];
      const connectAs = (tenant: string, name: string) =>
        runAsTenant(tenant, async () => {
          const client = await pool.connect();
          order.push(name);
          const { rows } = await client.query('SELECT $1::text AS name', [name]);
          return { client, name: rows[0].name as string };
        });
      const burst = ['burst-3', 'burst-4', 'burst-5'].map((name) => connectAs('burst', name));
      const quiet = connectAs('quiet', 'quiet-1');
      held[0].release();
      const first = await burst[0];
      first.client.release();
      const second = await quiet;
      expect(second.name).toBe('quiet-1');
      second.client.release();
      held[1].release();
      for (const waiting of burst.slice(1)) (await waiting).client.release();
      // First come first served would have been burst-3, burst-4, burst-5, quiet-1.
      expect(order).toEqual(['burst-3', 'quiet-1', 'burst-4', 'burst-5']);
      // pool.query (which the accept path uses) releases its slot too: it still runs with every slot handed back.
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

describe("the inbox's claim rounds", () => {
  const context = useTestContext();

  it('wait in a connection queue of their own, not in that of the tenant whose finished turn woke them', async () => {
    const processor = context.services.processor;
    const queues: Array<string | undefined> = [];
    const claimConversations = context.services.queue.claimConversations.bind(context.services.queue);
    context.services.queue.claimConversations = (conversationIds) => {
      queues.push(currentTenant());
      return claimConversations(conversationIds);
    };
    processor.start();
    try {
      // A turn of a busy tenant finishes and wakes the processor for its conversation's next message.
      runAsTenant('busy-tenant', async () => processor.wake({ conversationId: crypto.randomUUID(), tenantId: 'busy-tenant' }));
      await expect.poll(() => queues.length, { interval: 5 }).toBeGreaterThan(0);
      expect(queues.every((queue) => queue === 'claim rounds')).toBe(true);
    } finally {
      await processor.stop();
      context.services.queue.claimConversations = claimConversations;
    }
  });
});

describe('a snapshot every tenant reads', () => {
  it('is refreshed in a connection queue of its own, not in that of the tenant whose turn found it stale', async () => {
    const queues: Array<string | undefined> = [];
    // The breakers' snapshot query, as the database sees it: only which queue it waited in matters here.
    const manager = {
      query: async () => {
        queues.push(currentTenant());
        return [];
      },
    } as unknown as EntityManager;
    const breaker = new CircuitBreaker(manager);
    // A busy tenant's turn is the first to find the snapshot stale; a quiet tenant's turn waits for the same refresh.
    await Promise.all([runAsTenant('busy-tenant', () => breaker.ensureFresh()), runAsTenant('quiet-tenant', () => breaker.ensureFresh())]);
    expect(queues).toEqual(['shared loads']);
  });
});
